"""The loader hooks on the real libraries: torch.load, safetensors' load_file and safe_open, and
transformers' from_pretrained (AutoModel and a model class) on a Hugging Face cache snapshot,
with files torch, safetensors and transformers wrote here. .ci/run runs this file in its torch
environment (scripts/torch/venv.sh, from the package sources these machines have) with
MODELSIGN_TEST_REQUIRE_TORCH=1; elsewhere it is skipped when those libraries are not importable
(test_guard.py runs the same hooks on stand-ins everywhere). diffusers is not among the local
package sources, so its from_pretrained hook is exercised only through the stand-ins."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import pytest

REQUIRED = os.environ.get("MODELSIGN_TEST_REQUIRE_TORCH") == "1"
torch = pytest.importorskip("torch", reason="torch is not installed here (.ci/run's torch environment has it)") if not REQUIRED else __import__("torch")
import safetensors  # noqa: E402
import safetensors.torch  # noqa: E402
import transformers  # noqa: E402

from modelsign_verify.guard import Guard, ModelRefused  # noqa: E402

from test_guard import retarget, snapshot  # noqa: E402
from test_model import KEYS, sign  # noqa: E402


@pytest.fixture()
def hooked() -> Iterator[None]:
    """Installs a guard's hooks for one test and takes them off afterwards (the modules are shared)."""
    saved = [
        (torch, "load", torch.load),
        (safetensors, "safe_open", safetensors.safe_open),
        (safetensors.torch, "load_file", safetensors.torch.load_file),
        (safetensors.torch, "safe_open", getattr(safetensors.torch, "safe_open", None)),
        (transformers.PreTrainedModel, "from_pretrained", transformers.PreTrainedModel.__dict__["from_pretrained"]),
    ]
    from transformers.models.auto.auto_factory import _BaseAutoModelClass

    saved.append((_BaseAutoModelClass, "from_pretrained", _BaseAutoModelClass.__dict__["from_pretrained"]))
    yield
    for owner, name, value in saved:
        if value is not None:
            setattr(owner, name, value)


def release(path: Path) -> Path:
    path.with_name(path.name + ".sig").write_text(json.dumps(sign({path.name: path.read_bytes()})))
    return path


def test_torch_load_gets_the_checked_checkpoint(tmp_path: Path, hooked: None) -> None:
    state = {"w": torch.arange(64, dtype=torch.float32).reshape(8, 8), "b": torch.ones(8)}
    path = tmp_path / "model.pt"
    torch.save(state, path)
    release(path)
    evil = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(8, 8), "b": torch.zeros(8)}, evil)

    def attack(step: str, where: str) -> None:
        if step == "verified" and evil.exists():
            os.replace(evil, path)  # swapped after the check, before the load

    Guard(KEYS, on_step=attack).install(from_pretrained=False)
    loaded = torch.load(str(path), map_location="cpu", weights_only=True)
    assert torch.equal(loaded["w"], state["w"]) and torch.equal(loaded["b"], state["b"])
    with pytest.raises(ModelRefused) as refused:
        torch.load(str(path), map_location="cpu")
    assert refused.value.code == "file_changed"


def test_torch_load_refuses_a_whole_module_and_an_unsigned_file(tmp_path: Path, hooked: None) -> None:
    module = torch.nn.Sequential(torch.nn.Linear(2, 2))
    path = tmp_path / "module.pt"
    torch.save(module, path)
    release(path)
    unsigned = tmp_path / "unsigned.pt"
    torch.save({"w": torch.ones(2)}, unsigned)
    Guard(KEYS).install(from_pretrained=False)
    with pytest.raises(ModelRefused) as refused:
        torch.load(str(path), weights_only=False)
    assert refused.value.code == "content_code_capable"
    assert "torch.nn.modules.container.Sequential" in str(refused.value)
    with pytest.raises(ModelRefused) as refused:
        torch.load(str(unsigned))
    assert refused.value.code == "unsigned"


def test_a_checkpoint_rewritten_in_place_as_torch_reads_it_is_refused_after_the_load(tmp_path: Path, hooked: None) -> None:
    path = tmp_path / "model.pt"
    torch.save({"w": torch.full((256,), 1.0)}, path)
    release(path)
    data = path.read_bytes()
    # The same archive with other tensor bytes, same length: only the data member differs.
    changed = data.replace(torch.full((256,), 1.0).numpy().tobytes(), torch.full((256,), 2.0).numpy().tobytes())
    assert changed != data and len(changed) == len(data)

    def attack(step: str, where: str) -> None:
        if step == "loading":
            with open(path, "r+b") as f:
                f.write(changed)

    Guard(KEYS, on_step=attack).install(from_pretrained=False)
    with pytest.raises(ModelRefused) as refused:
        torch.load(str(path))
    assert refused.value.code == "changed_during_load"


def test_safetensors_load_file_and_safe_open_read_the_checked_file(tmp_path: Path, hooked: None) -> None:
    weights = {"w": torch.arange(16, dtype=torch.float32)}
    path = tmp_path / "model.safetensors"
    safetensors.torch.save_file(weights, str(path))
    release(path)
    evil = tmp_path / "evil.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(16)}, str(evil))
    swapped = []

    def attack(step: str, where: str) -> None:
        if step == "loading" and not swapped:
            swapped.append(True)
            os.link(evil, tmp_path / "evil-copy.safetensors")
            os.replace(tmp_path / "evil-copy.safetensors", path)

    Guard(KEYS, on_step=attack).install(from_pretrained=False)
    assert torch.equal(safetensors.torch.load_file(str(path))["w"], weights["w"])
    assert path.read_bytes() == evil.read_bytes(), "the attack ran"
    with pytest.raises(ModelRefused) as refused:
        safetensors.torch.load_file(str(path))
    assert refused.value.code == "file_changed"
    release(path)  # re-signed: now it is the release
    with safetensors.safe_open(str(path), framework="pt") as f:
        assert torch.equal(f.get_tensor("w"), torch.zeros(16))


def hub_snapshot(tmp_path: Path, folder: Path) -> Path:
    """A Hugging Face cache snapshot of ``folder``'s files, signed (model.sig in the repository)."""
    return snapshot(tmp_path, {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()})


def test_from_pretrained_loads_a_checked_snapshot_privately_whatever_its_links_say_later(tmp_path: Path, hooked: None) -> None:
    config = transformers.BertConfig(vocab_size=32, hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8, max_position_embeddings=16)
    torch.manual_seed(1)
    saved = tmp_path / "saved"
    transformers.BertModel(config).save_pretrained(saved)
    original = safetensors.torch.load_file(str(saved / "model.safetensors"))
    snap = hub_snapshot(tmp_path, saved)
    # Another model's weights, under the hub's rules (a blob of the same repository).
    torch.manual_seed(2)
    other = tmp_path / "other"
    transformers.BertModel(config).save_pretrained(other)
    evil = (other / "model.safetensors").read_bytes()

    def attack(step: str, where: str) -> None:
        if step == "linked":
            retarget(snap / "model.safetensors", evil)

    Guard(KEYS, on_step=attack).install()
    for cls in (transformers.AutoModel, transformers.BertModel):
        model = cls.from_pretrained(str(snap))
        name = "embeddings.word_embeddings.weight"
        key = name if name in original else f"bert.{name}"
        assert torch.equal(model.state_dict()[name], original[key]), f"{cls.__name__} loaded the checked weights"
        # The link now names the other model: the next load is checked afresh and refused.
        with pytest.raises(ModelRefused) as refused:
            cls.from_pretrained(str(snap))
        assert refused.value.code == "file_changed"
        retarget(snap / "model.safetensors", (saved / "model.safetensors").read_bytes())


def test_install_first_then_transformers_whose_safe_open_is_the_hooked_one(tmp_path: Path) -> None:
    """install() imports transformers after hooking safetensors, so transformers' own
    ``from safetensors import safe_open`` binds the hook: inside from_pretrained it must pass
    through on the private snapshot's names (checked once), not check the resolved blobs again."""
    import subprocess
    import sys

    config = transformers.BertConfig(vocab_size=32, hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8, max_position_embeddings=16)
    torch.manual_seed(3)
    saved = tmp_path / "saved"
    transformers.BertModel(config).save_pretrained(saved)
    expected = float(safetensors.torch.load_file(str(saved / "model.safetensors"))["embeddings.word_embeddings.weight"].sum())
    snap = hub_snapshot(tmp_path, saved)
    script = f"""
import sys
from modelsign_verify import guard as g
from test_model import KEYS
hooked = g.Guard(KEYS).install()
import transformers, transformers.modeling_utils
assert getattr(transformers.modeling_utils.safe_open, "modelsign_guarded", False), "transformers bound the hooked safe_open"
model = transformers.AutoModel.from_pretrained({str(snap)!r})
print(float(model.state_dict()["embeddings.word_embeddings.weight"].sum()))
"""
    here = os.path.dirname(os.path.abspath(__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), here]))}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert abs(float(run.stdout.strip().splitlines()[-1]) - expected) < 1e-6
