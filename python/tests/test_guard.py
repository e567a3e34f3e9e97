"""The loader hooks (modelsign_verify.guard) with stand-in loaders written here, shaped as the real
ones are called (torch.load takes a path or a file; safetensors.torch.load_file opens its path
through safe_open; safe_open is a context manager; from_pretrained reads files from a folder),
so the tests run where torch, safetensors and transformers are not importable; test_guard_real.py
runs the same hooks on the real libraries where they are (.ci/run's torch environment).

"Caught" means the checked bytes are what loads: every attack below either raises ModelRefused or
the loader returns the signed bytes, never the attacker's. The attacks: a swapped checkpoint, a
swap after every step of the hook (``on_step``) and inside the loader's own ``open``, an unsigned
pickle, a code-capable file, a snapshot link retargeted, a file outside the manifest, and a file
rewritten in place during the load (refused after the load)."""
from __future__ import annotations

import builtins
import hashlib
import json
import os
import shutil
import sys
import types
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from modelsign_verify.guard import GUARD_CODES, Guard, ModelRefused, install, load_keys
from modelsign_verify.reasons import REASON_CODES

from test_model import KEYS, PEM, sign

REPO = Path(__file__).resolve().parents[2]
TORCH = REPO / "test" / "fixtures" / "torch"
SIGNED = (TORCH / "state-dict.pt").read_bytes()
PAYLOAD = (TORCH / "payload.pt").read_bytes()
RAW_PAYLOAD = (TORCH / "raw-payload.pt").read_bytes()
EVIL = (TORCH / "dtype-float64.pt").read_bytes()  # valid and allowlisted, but not what was signed


def safetensors_bytes(payload: bytes) -> bytes:
    header = json.dumps({"t": {"dtype": "U8", "shape": [len(payload)], "data_offsets": [0, len(payload)]}}).encode()
    header += b" " * (-len(header) % 8)
    return len(header).to_bytes(8, "little") + header + payload


ST_GOOD = safetensors_bytes(b"signed weights")
ST_EVIL = safetensors_bytes(b"evil!! weights")


class Loaders:
    """Stand-ins for torch, safetensors and a from_pretrained class. ``on_open(path)`` runs inside
    the loader just before it opens a file: where an attacker racing the load acts."""

    def __init__(self) -> None:
        self.on_open: Callable[[str], None] = lambda path: None
        self.seen: List[Tuple[str, Any]] = []
        loaders = self

        def read(target: Any) -> bytes:
            if isinstance(target, (str, os.PathLike)):
                loaders.on_open(os.fspath(target))
                with builtins.open(target, "rb") as f:
                    return f.read()
            loaders.on_open(getattr(target, "name", "<file>"))
            return bytes(target.read())

        self.torch = types.ModuleType("torch")

        def torch_load(f: Any, map_location: Any = None, mmap: Optional[bool] = None, weights_only: bool = True) -> bytes:
            loaders.seen.append(("torch.load", f))
            return read(f)

        self.torch.load = torch_load  # type: ignore[attr-defined]

        class SafeOpen:
            def __init__(self, filename: str, framework: str, device: str = "cpu") -> None:
                loaders.seen.append(("safe_open", filename))
                self.data = read(filename)

            def __enter__(self) -> "SafeOpen":
                return self

            def __exit__(self, *exc: Any) -> None:
                return None

            def get_tensor(self, name: str) -> bytes:
                n = int.from_bytes(self.data[:8], "little")
                return self.data[8 + n :]

        self.safetensors = types.ModuleType("safetensors")
        self.safetensors.safe_open = SafeOpen  # type: ignore[attr-defined]
        st_torch = types.ModuleType("safetensors.torch")
        st_torch.safe_open = SafeOpen  # type: ignore[attr-defined]

        def load_file(filename: str, device: str = "cpu") -> Dict[str, bytes]:
            loaders.seen.append(("load_file", filename))
            # As the real one: through the module's safe_open (hooked too: the nested call must pass through).
            with st_torch.safe_open(filename, framework="pt", device=device) as f:
                return {"t": f.get_tensor("t")}

        st_torch.load_file = load_file  # type: ignore[attr-defined]
        self.safetensors.torch = st_torch  # type: ignore[attr-defined]

        class PreTrainedModel:
            #: Weights read through the (hooked) safetensors loader, as transformers does, rather than open().
            via_loader = False

            @classmethod
            def from_pretrained(cls, path: str, **kwargs: Any) -> Dict[str, Any]:
                loaders.seen.append(("from_pretrained", (path, dict(kwargs), os.environ.get("HF_HUB_OFFLINE"))))
                out: Dict[str, Any] = {"config.json": read(os.path.join(path, "config.json"))}
                weights = os.path.join(path, "model.safetensors")
                out["model.safetensors"] = st_torch.load_file(weights)["t"] if cls.via_loader else read(weights)
                out["files"] = sorted(os.listdir(path))
                return out

        class TinyModel(PreTrainedModel):
            pass

        class ViaLoaderModel(PreTrainedModel):
            via_loader = True

        self.PreTrainedModel = PreTrainedModel
        self.TinyModel = TinyModel
        self.ViaLoaderModel = ViaLoaderModel

    def install(self, guard: Guard) -> List[str]:
        return guard.install(torch=self.torch, safetensors=self.safetensors, from_pretrained=[self.PreTrainedModel])


@pytest.fixture()
def loaders() -> Loaders:
    return Loaders()


@pytest.fixture(autouse=True)
def refusals_carry_documented_codes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every ModelRefused raised in these tests carries a code from REASON_CODES or GUARD_CODES."""
    seen: List[str] = []
    original = ModelRefused.__init__

    def record(self: ModelRefused, code: str, message: str, reasons: Any = None) -> None:
        seen.append(code)
        original(self, code, message, reasons)

    monkeypatch.setattr(ModelRefused, "__init__", record)
    yield
    assert set(GUARD_CODES).isdisjoint(REASON_CODES)
    assert [c for c in seen if c not in REASON_CODES and c not in GUARD_CODES] == []


def release(folder: Path, name: str, data: bytes) -> Path:
    """``name`` signed on its own (``name.sig`` beside it), as Fooocus's folders are."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    (folder / f"{name}.sig").write_text(json.dumps(sign({name: data})))
    return folder / name


def snapshot(tmp_path: Path, files: Dict[str, bytes]) -> Path:
    """A Hugging Face cache snapshot signed as a folder: model.sig in the repository, every file a link into blobs/."""
    repo = tmp_path / "hub" / "models--acme--tiny"
    snap = repo / "snapshots" / ("a" * 40)
    (repo / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    for name, data in {**files, "model.sig": json.dumps(sign(files)).encode()}.items():
        blob = hashlib.sha256(data).hexdigest()
        (repo / "blobs" / blob).write_bytes(data)
        os.symlink(f"../../blobs/{blob}", snap / name)
    return snap


def retarget(link: Path, data: bytes) -> None:
    """Points a snapshot link at another blob of the same repository (as the hub's rules allow)."""
    blobs = link.resolve().parent
    blob = hashlib.sha256(data).hexdigest()
    (blobs / blob).write_bytes(data)
    tmp = link.with_name(link.name + ".new")
    os.symlink(f"../../blobs/{blob}", tmp)
    os.replace(tmp, link)


def swap(path: Path, data: bytes) -> None:
    """Another file renamed over the path (a new inode: what a writer of the folder does)."""
    tmp = path.with_name(path.name + ".swap")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def rewrite_in_place(path: Path, data: bytes) -> None:
    """The same inode rewritten (a writer of the file itself)."""
    with builtins.open(path, "r+b") as f:
        f.write(data)


# -- the four hooks, one scenario each ---------------------------------------------------------
HOOKS = ["torch.load", "load_file", "safe_open"]


def load_with(loaders: Loaders, hook: str, path: Path) -> bytes:
    if hook == "torch.load":
        return loaders.torch.load(str(path), map_location="cpu")  # type: ignore[no-any-return]
    if hook == "load_file":
        return loaders.safetensors.torch.load_file(str(path))["t"]  # type: ignore[no-any-return]
    with loaders.safetensors.safe_open(str(path), framework="pt") as f:
        return f.get_tensor("t")  # type: ignore[no-any-return]


def good_and_evil(hook: str) -> Tuple[str, bytes, bytes, bytes]:
    """The file name, the signed bytes, an attacker's, and what the loader returns for the signed ones."""
    if hook == "torch.load":
        return "model.pt", SIGNED, EVIL, SIGNED
    return "model.safetensors", ST_GOOD, ST_EVIL, b"signed weights"


@pytest.mark.parametrize("hook", HOOKS)
def test_the_signed_model_loads_through_the_checked_descriptor(tmp_path: Path, loaders: Loaders, hook: str) -> None:
    name, good, _, loaded = good_and_evil(hook)
    path = release(tmp_path / "models", name, good)
    hooked = loaders.install(Guard(KEYS))
    assert {"torch.load", "safetensors.safe_open", "safetensors.torch.load_file"} <= set(hooked)
    assert load_with(loaders, hook, path) == loaded
    # The loader was handed the descriptor, never the path.
    kind, target = loaders.seen[0]
    assert not (isinstance(target, str) and target == str(path)), loaders.seen
    if hook != "torch.load":
        assert str(target).startswith("/proc/self/fd/")


@pytest.mark.parametrize("hook", HOOKS)
def test_a_swapped_checkpoint_is_refused(tmp_path: Path, loaders: Loaders, hook: str) -> None:
    name, good, evil, _ = good_and_evil(hook)
    path = release(tmp_path / "models", name, good)
    swap(path, evil)
    loaders.install(Guard(KEYS))
    with pytest.raises(ModelRefused) as refused:
        load_with(loaders, hook, path)
    assert refused.value.code == "file_changed"
    assert loaders.seen == []


STEPS = ["found", "listed", "opened", "hashed", "verified", "loading"]


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("step", STEPS + ["inside the loader's open"])
def test_a_swap_after_any_step_never_loads_the_attackers_bytes(tmp_path: Path, loaders: Loaders, hook: str, step: str) -> None:
    name, good, evil, loaded = good_and_evil(hook)
    path = release(tmp_path / "models", name, good)

    def attack(at: str, where: str) -> None:
        if at == step:
            swap(path, evil)

    loaders.install(Guard(KEYS, on_step=attack))
    if step == "inside the loader's open":
        loaders.on_open = lambda target: swap(path, evil) if path.read_bytes() == good else None
    try:
        result = load_with(loaders, hook, path)
    except ModelRefused as err:
        # Swapped before the file was opened: the digest is the attacker's, refused.
        assert step in STEPS and STEPS.index(step) < STEPS.index("opened"), f"refused after {step}: {err}"
        assert err.code == "file_changed"
        return
    assert path.read_bytes() == evil, "the attack ran"
    assert result == loaded, f"swapped after {step}: the checked bytes loaded"


@pytest.mark.parametrize("hook", HOOKS)
def test_a_file_rewritten_in_place_during_the_load_is_refused_after_it(tmp_path: Path, loaders: Loaders, hook: str) -> None:
    name, good, evil, _ = good_and_evil(hook)
    assert len(good) == len(evil) or hook == "torch.load"
    path = release(tmp_path / "models", name, good)
    loaders.install(Guard(KEYS))
    # Same length, same inode: only the bytes differ (timestamps may not move within one tick).
    loaders.on_open = lambda target: rewrite_in_place(path, evil[: len(good)].ljust(len(good), b"\0"))
    with pytest.raises(ModelRefused) as refused:
        load_with(loaders, hook, path)
    assert refused.value.code == "changed_during_load"
    assert "the loader has already read those bytes" in str(refused.value)


def test_a_file_rewritten_in_place_after_the_check_is_refused_before_the_load(tmp_path: Path, loaders: Loaders) -> None:
    path = release(tmp_path / "models", "model.pt", SIGNED)
    # A longer write: the size moves, so the check before the load sees it.
    loaders.install(Guard(KEYS, on_step=lambda step, where: rewrite_in_place(path, SIGNED + b"more") if step == "verified" else None))
    with pytest.raises(ModelRefused) as refused:
        loaders.torch.load(str(path))
    assert refused.value.code == "changed_before_load"
    assert loaders.seen == []


@pytest.mark.parametrize("hook", HOOKS)
def test_an_unsigned_file_is_refused_and_with_allow_unsigned_judged_by_its_content(tmp_path: Path, loaders: Loaders, hook: str) -> None:
    name, good, _, loaded = good_and_evil(hook)
    (tmp_path / "models").mkdir()
    path = tmp_path / "models" / name
    path.write_bytes(good)
    loaders.install(Guard(KEYS))
    with pytest.raises(ModelRefused) as refused:
        load_with(loaders, hook, path)
    assert refused.value.code == "unsigned"
    other = Loaders()
    other.install(Guard(None, allow_unsigned=True))
    assert load_with(other, hook, path) == loaded


def test_an_unsigned_pickle_is_refused_even_where_unsigned_files_are_allowed(tmp_path: Path, loaders: Loaders) -> None:
    (tmp_path / "models").mkdir()
    for name, data in (("raw.pt", RAW_PAYLOAD), ("zip.pt", PAYLOAD)):
        (tmp_path / "models" / name).write_bytes(data)
    loaders.install(Guard(None, allow_unsigned=True))
    for name in ("raw.pt", "zip.pt"):
        with pytest.raises(ModelRefused) as refused:
            loaders.torch.load(str(tmp_path / "models" / name))
        assert refused.value.code == "content_code_capable"
        assert "posix.system" in str(refused.value)
    assert loaders.seen == []


def test_a_signed_code_capable_file_is_refused_unless_allowed(tmp_path: Path, loaders: Loaders) -> None:
    path = release(tmp_path / "models", "model.pt", PAYLOAD)
    loaders.install(Guard(KEYS))
    with pytest.raises(ModelRefused) as refused:
        loaders.torch.load(str(path))
    assert refused.value.code == "content_code_capable"
    assert loaders.seen == []
    allowing = Loaders()
    allowing.install(Guard(KEYS, allow_unsafe_content=True))
    assert allowing.torch.load(str(path)) == PAYLOAD


# -- from_pretrained on a Hugging Face snapshot -------------------------------------------------
SNAPSHOT_FILES = {"config.json": b'{"model_type": "tiny"}\n', "model.safetensors": ST_GOOD}


@pytest.mark.parametrize("step", STEPS + ["linked", "inside the loader's open"])
def test_from_pretrained_loads_the_checked_snapshot_whatever_its_links_say_later(tmp_path: Path, loaders: Loaders, step: str) -> None:
    snap = snapshot(tmp_path, SNAPSHOT_FILES)
    link = snap / "model.safetensors"

    def attack(at: str, where: str) -> None:
        if at == step:
            retarget(link, ST_EVIL)

    loaders.install(Guard(KEYS, on_step=attack))
    if step == "inside the loader's open":
        loaders.on_open = lambda target: retarget(link, ST_EVIL) if link.read_bytes() == ST_GOOD else None
    try:
        model = loaders.TinyModel.from_pretrained(str(snap), torch_dtype="auto")
    except ModelRefused as err:
        assert step in STEPS and STEPS.index(step) < STEPS.index("opened"), f"refused after {step}: {err}"
        assert err.code == "file_changed"
        return
    assert link.read_bytes() == ST_EVIL, "the attack ran"
    assert model["model.safetensors"] == ST_GOOD
    assert model["files"] == ["config.json", "model.safetensors"]
    [(kind, (path, kwargs, offline))] = loaders.seen
    # Loaded offline, from a private snapshot (gone now), never from the cache path.
    assert not path.startswith(str(tmp_path)) and "modelsign-snapshot-" in path and not os.path.exists(path)
    assert kwargs == {"torch_dtype": "auto", "local_files_only": True} and offline == "1"


def test_loads_nested_in_from_pretrained_pass_through_once_checked(tmp_path: Path, loaders: Loaders) -> None:
    snap = snapshot(tmp_path, SNAPSHOT_FILES)
    steps: List[str] = []
    loaders.install(Guard(KEYS, on_step=lambda step, where: steps.append(step)))
    model = loaders.ViaLoaderModel.from_pretrained(str(snap))
    assert model["model.safetensors"] == b"signed weights"
    # The snapshot was checked once; load_file and safe_open inside it were handed the private names and passed through.
    assert steps.count("found") == 1, steps
    kinds = [kind for kind, _ in loaders.seen]
    assert kinds == ["from_pretrained", "load_file", "safe_open"]
    private = loaders.seen[0][1][0]
    assert loaders.seen[1][1] == os.path.join(private, "model.safetensors")
    # Outside a load, a descriptor name is not a pass: it is checked like any path (and has no bundle).
    with open(snap / "config.json", "rb") as f:
        with pytest.raises(ModelRefused) as refused:
            loaders.safetensors.torch.load_file(f"/proc/self/fd/{f.fileno()}")
    assert refused.value.code == "unsigned"


def test_from_pretrained_refuses_files_outside_the_manifest_and_unsigned_snapshots(tmp_path: Path, loaders: Loaders) -> None:
    snap = snapshot(tmp_path, SNAPSHOT_FILES)
    blob = snap.parent.parent / "blobs" / hashlib.sha256(b"import os").hexdigest()
    blob.write_bytes(b"import os")
    os.symlink(f"../../blobs/{blob.name}", snap / "modeling_tiny.py")
    loaders.install(Guard(KEYS))
    with pytest.raises(ModelRefused) as refused:
        loaders.TinyModel.from_pretrained(str(snap))
    assert refused.value.code == "file_extra"
    os.unlink(snap / "modeling_tiny.py")
    os.unlink(snap / "model.sig")
    with pytest.raises(ModelRefused) as refused:
        loaders.TinyModel.from_pretrained(str(snap))
    assert refused.value.code == "unsigned"
    assert loaders.seen == []


def test_a_link_out_of_the_snapshot_is_refused(tmp_path: Path, loaders: Loaders) -> None:
    snap = snapshot(tmp_path, SNAPSHOT_FILES)
    outside = tmp_path / "elsewhere.safetensors"
    outside.write_bytes(ST_GOOD)
    os.unlink(snap / "model.safetensors")
    os.symlink(outside, snap / "model.safetensors")
    loaders.install(Guard(KEYS))
    with pytest.raises(ModelRefused) as refused:
        loaders.TinyModel.from_pretrained(str(snap))
    assert refused.value.code == "symlink_outside"


def test_one_file_of_a_folder_release_is_checked_against_the_folder_s_bundle(tmp_path: Path, loaders: Loaders) -> None:
    folder = tmp_path / "release"
    files = {"unet/model.pt": SIGNED, "vae/model.pt": PAYLOAD}
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (folder / "model.sig").write_text(json.dumps(sign(files)))
    loaders.install(Guard(KEYS))
    assert loaders.torch.load(str(folder / "unet" / "model.pt")) == SIGNED
    with pytest.raises(ModelRefused) as refused:
        loaders.torch.load(str(folder / "vae" / "model.pt"))
    assert refused.value.code == "content_code_capable"


def test_install_reads_the_key_from_the_environment_and_hooks_only_what_is_importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loaders: Loaders) -> None:
    pem = tmp_path / "release.pem"
    pem.write_text(PEM)
    monkeypatch.setenv("MODELSIGN_KEY", str(pem))
    monkeypatch.delenv("MODELSIGN_KEYS", raising=False)
    guard = install(torch=loaders.torch, safetensors=False, from_pretrained=False)
    assert guard.keys is not None and len(guard.keys.keys()) == 1
    assert getattr(loaders.torch.load, "modelsign_guarded", False)
    # Installing twice does not wrap twice.
    first = loaders.torch.load
    install(torch=loaders.torch, safetensors=False, from_pretrained=False)
    assert loaders.torch.load is first
    with pytest.raises(ValueError):
        Guard(None)  # no keys and unsigned files not allowed: nothing could load
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello")
    with pytest.raises(ValueError):
        load_keys(str(not_a_key))
    path = release(tmp_path / "models", "model.pt", SIGNED)
    assert loaders.torch.load(str(path)) == SIGNED


def test_where_no_descriptor_path_exists_the_guard_refuses_or_warns_as_told(tmp_path: Path, loaders: Loaders, monkeypatch: pytest.MonkeyPatch) -> None:
    from modelsign_verify import guard as guard_module

    path = release(tmp_path / "models", "model.safetensors", ST_GOOD)
    monkeypatch.setattr(guard_module.CheckedFile, "pinned_path", lambda self: None)
    loaders.install(Guard(KEYS))
    with pytest.raises(ModelRefused) as refused:
        loaders.safetensors.torch.load_file(str(path))
    assert refused.value.code == "cannot_pin"
    warning = Loaders()
    warning.install(Guard(KEYS, pin="warn"))
    with pytest.warns(UserWarning, match="cannot pin"):
        assert warning.safetensors.torch.load_file(str(path)) == {"t": b"signed weights"}


def test_install_imports_nothing_and_hooks_each_loader_the_moment_it_is_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing transformers costs an application seconds at start-up: install() leaves modules
    not yet imported alone and hooks them as they are imported, before the importer goes on."""
    from modelsign_verify import guard as guard_module

    package = tmp_path / "lazy_pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "modeling.py").write_text(
        "class PreTrainedModel:\n"
        "    @classmethod\n"
        "    def from_pretrained(cls, path, **kwargs):\n"
        "        return open(path + '/config.json', 'rb').read()\n"
    )
    # A module that binds the class at its own import, as transformers binds safe_open.
    (package / "user.py").write_text("from lazy_pkg.sub.modeling import PreTrainedModel as Bound\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(guard_module, "_PRETRAINED", (("lazy_pkg.sub.modeling", ("PreTrainedModel",)),))
    assert "lazy_pkg.sub.modeling" not in sys.modules
    hooked = Guard(KEYS).install(torch=False, safetensors=False)
    assert hooked == ["lazy_pkg.sub.modeling (when imported)"]
    assert "lazy_pkg.sub.modeling" not in sys.modules, "install imported nothing"
    import lazy_pkg.user  # type: ignore[import-not-found]

    assert getattr(lazy_pkg.user.Bound.__dict__["from_pretrained"].__func__, "modelsign_guarded", False)
    snap = snapshot(tmp_path, SNAPSHOT_FILES)
    assert lazy_pkg.user.Bound.from_pretrained(str(snap)) == SNAPSHOT_FILES["config.json"]
    unsigned = tmp_path / "unsigned-model"
    unsigned.mkdir()
    (unsigned / "config.json").write_text("{}")
    with pytest.raises(ModelRefused) as refused:
        lazy_pkg.user.Bound.from_pretrained(str(unsigned))
    assert refused.value.code == "unsigned"
    for name in [m for m in sys.modules if m.startswith("lazy_pkg")]:
        del sys.modules[name]
