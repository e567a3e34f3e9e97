#!/usr/bin/env python3
"""The real-PyTorch corpus: files made by torch.save (zip and legacy), Lightning, transformers,
NumPy and scikit-learn, plus malicious ones made the way an attacker makes them (objects whose
__reduce__ runs a command, saved with the real tools), each judged by PyTorch itself with
torch.load(weights_only=True). Writes the files into OUTDIR and OUTDIR/oracle.json: for each file
torch's outcome (loaded, or refused and why, with the unsafe globals it named), the verdict
modelsign must give, and the torch version.

The committed corpus is test/fixtures/torch (small files; larger layouts come from
test/support/torch-zip.ts, checked against a file here). `npm test` compares modelsign's verdicts
with oracle.json (test/core/scan/torch-corpus.test.ts); `.ci/run` runs `--check`, which loads the
committed files with this torch and fails on any outcome that differs from oracle.json, then
regenerates the corpus into a temporary folder and fails on any difference of outcome by name.

Nothing here is ever loaded without weights_only=True. The payloads run `true`.

Usage:
  corpus.py OUTDIR            write the corpus and its oracle
  corpus.py --check DIR       torch.load(weights_only=True) every file in DIR; compare with DIR/oracle.json
  corpus.py --compare A B     the outcomes of two oracle files, by name; exit 1 on a difference
Needs torch, numpy, lightning, transformers, scikit-learn (scripts/torch/venv.sh).
"""
import collections
import io
import json
import os
import pickle
import re
import sys
import warnings

warnings.simplefilter("ignore")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch


def torch_outcome(path):
    """What torch.load(weights_only=True) does with the file: loaded, or refused with its reason."""
    try:
        torch.load(path, weights_only=True, map_location="cpu")
        return {"torch": "loaded"}
    except Exception as e:  # noqa: BLE001 - every refusal is recorded, whatever its type
        message = str(e)
        unsafe = sorted(set(re.findall(r"GLOBAL (\S+) (?:was not an allowed global|whose module)", message)))
        if not unsafe and re.search(r"Trying to call reduce for unrecognized function|Can only (?:build|create new object)", message):
            unsafe = ["(a call on a value that is not an allowed global)"]
        # torch wraps the unpickler's reason in advice; the reason follows "WeightsUnpickler error:".
        reason = message.split("WeightsUnpickler error:", 1)[-1]
        first = next((line.strip() for line in reason.splitlines() if line.strip()), message.strip())
        return {"torch": "refused", "reason": "unsafe-global" if unsafe else "other", **({"unsafe": unsafe} if unsafe else {}), "error": first[:300]}


def check(folder):
    with open(os.path.join(folder, "oracle.json")) as f:
        oracle = json.load(f)
    bad = []
    for entry in oracle["files"]:
        got = torch_outcome(os.path.join(folder, entry["file"]))
        if got["torch"] != entry["torch"] or got.get("unsafe") != entry.get("unsafe"):
            bad.append(f"{entry['file']}: oracle says {entry['torch']} {entry.get('unsafe', '')}, torch {torch.__version__} says {got['torch']} {got.get('unsafe', '')} ({got.get('error', '')})")
    for line in bad:
        print(line, file=sys.stderr)
    print(f"{len(oracle['files']) - len(bad)} of {len(oracle['files'])} files: torch {torch.__version__} agrees with the oracle (made with torch {oracle['torchVersion']})")
    return 1 if bad else 0


def compare(a, b):
    with open(a) as f:
        left = {e["file"]: e for e in json.load(f)["files"]}
    with open(b) as f:
        right = {e["file"]: e for e in json.load(f)["files"]}
    keys = ("torch", "unsafe", "expect")
    bad = [n for n in sorted(set(left) | set(right)) if n not in left or n not in right or any(left[n].get(k) != right[n].get(k) for k in keys)]
    for n in bad:
        print(f"{n}: {json.dumps({k: left.get(n, {}).get(k) for k in keys})} vs {json.dumps({k: right.get(n, {}).get(k) for k in keys})}", file=sys.stderr)
    print(f"{len(left)} and {len(right)} files; {len(bad)} differ")
    return 1 if bad else 0


if sys.argv[1] == "--check":
    sys.exit(check(sys.argv[2]))
if sys.argv[1] == "--compare":
    sys.exit(compare(sys.argv[2], sys.argv[3]))

out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
torch.manual_seed(0)
np.random.seed(0)
files = []


def record(name, expect, note, names=None):
    """`expect`: the verdict modelsign must give; `names`: a global its findings must name."""
    entry = {"file": name, "expect": expect, "note": note, **torch_outcome(os.path.join(out_dir, name))}
    if names:
        entry["names"] = names
    files.append(entry)


def save(name, obj, expect, note, names=None, **kwargs):
    torch.save(obj, os.path.join(out_dir, name), **kwargs)
    record(name, expect, note, names)


def write(name, data, expect, note, names=None):
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(data)
    record(name, expect, note, names)


class Payload:
    """What an attacker pickles: unpickling it runs a command (`true` here)."""

    def __reduce__(self):
        return (os.system, ("true",))


class EvalPayload:
    def __reduce__(self):
        return (eval, ("1+1",))


ALLOWED = "allowlisted-pickle"

# --- every dtype torch has, in a torch.save zip --------------------------------------------------
DTYPES = [
    "float32", "float64", "float16", "bfloat16", "complex32", "complex64", "complex128", "uint8", "int8", "int16", "int32", "int64",
    "bool", "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
    "float4_e2m1fn_x2", "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2",
]
for name in DTYPES:
    dt = getattr(torch, name)
    t = torch.zeros(8, dtype=torch.uint8).view(dt) if dt.itemsize == 1 else torch.zeros(4, dtype=torch.uint8).repeat(dt.itemsize).view(dt)
    save(f"dtype-{name}.pt", {"t": t}, ALLOWED, f"a state dict with one {name} tensor")
for qname, q in [("quint8", torch.quint8), ("qint8", torch.qint8), ("qint32", torch.qint32)]:
    save(f"quantized-{qname}.pt", {"q": torch.quantize_per_tensor(torch.rand(6), 0.1, 3, q)}, ALLOWED, f"a per-tensor quantized {qname} tensor")
save("quantized-per-channel.pt", {"q": torch.quantize_per_channel(torch.rand(2, 3), torch.tensor([0.1, 0.2]), torch.tensor([1, 2]), 0, torch.quint8)}, ALLOWED, "a per-channel quantized tensor")
save("quantized-quint4x2.pt", {"q": torch.quantize_per_tensor(torch.rand(4), 0.1, 1, torch.quint4x2)}, ALLOWED, "a quint4x2 tensor")

# --- state dicts and the things checkpoints hold --------------------------------------------------
net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
save("state-dict.pt", net.state_dict(), ALLOWED, "a module's state_dict (OrderedDict of tensors)")
save("state-dict.bin", net.state_dict(), ALLOWED, "the same under .bin (transformers' pytorch_model.bin name)")
save("state-dict.pth", net.state_dict(), ALLOWED, "the same under .pth")
save("state-dict-legacy.pth", net.state_dict(), ALLOWED, "the legacy (pre-1.6) format", _use_new_zipfile_serialization=False)
save("state-dict-protocol4.pt", net.state_dict(), ALLOWED, "pickle protocol 4 inside the zip", pickle_protocol=4)
save("parameters.pt", {"p": torch.nn.Parameter(torch.ones(3)), "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False)}, ALLOWED, "nn.Parameter objects")
save("sparse-coo.pt", {"s": torch.eye(3).to_sparse()}, ALLOWED, "a sparse COO tensor")
save("sparse-csr.pt", {"s": torch.eye(3).to_sparse_csr()}, ALLOWED, "a sparse CSR tensor")
save("nested.pt", {"n": torch.nested.nested_tensor([torch.ones(2), torch.ones(3)])}, ALLOWED, "a nested tensor")
save("views.pt", {"a": (base := torch.arange(10.0)), "b": base[2:5], "c": base.view(2, 5)}, ALLOWED, "tensors sharing one storage")
save("plain-values.pt", {"epoch": 3, "lr": 0.001, "name": "run-1", "betas": (0.9, 0.999), "flags": {True, False}, "z": complex(1, 2), "raw": b"\x00\x01", "ba": bytearray(b"xy"), "none": None}, ALLOWED, "plain Python values torch allows")
save("counter.pt", collections.Counter(a=2), ALLOWED, "collections.Counter")
save("size-device-dtype.pt", {"size": torch.Size([2, 3]), "device": torch.device("cpu"), "dtype": torch.float16}, ALLOWED, "torch.Size, torch.device and a dtype as values")
opt = torch.optim.Adam(net.parameters())
net(torch.ones(1, 4)).sum().backward()
opt.step()
save("optimizer.pt", opt.state_dict(), ALLOWED, "an Adam optimizer state_dict")
save("checkpoint.pth.tar", {"epoch": 1, "arch": "mlp", "state_dict": net.state_dict(), "best_acc1": 0.5, "optimizer": opt.state_dict()}, ALLOWED, "PyTorch's ImageNet example checkpoint (checkpoint.pth.tar)")
save("tensor-alone.pt", torch.arange(6).reshape(2, 3), ALLOWED, "a lone tensor")
save("model.ckpt", {"state_dict": net.state_dict(), "global_step": 10}, ALLOWED, "a Stable Diffusion style .ckpt (state_dict and global_step)")

# --- what torch itself refuses ---------------------------------------------------------------------
save("whole-module.pt", net, "code-capable", "torch.save(model): the whole module, classes and all", names="torch.nn.modules.container.Sequential")
save("whole-module-legacy.pt", net, "code-capable", "the whole module in the legacy format", names="torch.nn.modules.container.Sequential", _use_new_zipfile_serialization=False)
save("numpy-inside.pt", {"a": np.arange(3), "s": np.float32(1.5)}, ALLOWED, "NumPy arrays and scalars inside a checkpoint: torch refuses them, the checkpoint extension allows them")
save("lr-scheduler-lambda.pt", {"sched": torch.optim.lr_scheduler.StepLR(opt, 1)}, "code-capable", "an LR scheduler object (not its state_dict)", names="torch.optim.lr_scheduler.StepLR")

# --- Lightning, transformers, scikit-learn -------------------------------------------------------
try:
    import lightning as L

    class Tiny(L.LightningModule):
        def __init__(self, lr=0.01):
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(2, 1)

        def training_step(self, batch, _):
            return self.layer(batch[0]).sum()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 2)), batch_size=2)
    trainer = L.Trainer(max_steps=1, logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", default_root_dir=out_dir)
    trainer.fit(Tiny(), data)
    trainer.save_checkpoint(os.path.join(out_dir, "lightning.ckpt"))
    record("lightning.ckpt", ALLOWED, "a Lightning Trainer checkpoint (fit for one step, with save_hyperparameters)")
except ImportError:
    print("lightning is not installed: its checkpoint is left out", file=sys.stderr)

try:
    from transformers import BertConfig, BertModel, TrainingArguments

    bert = BertModel(BertConfig(vocab_size=32, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8, max_position_embeddings=16))
    save("pytorch_model.bin", bert.state_dict(), ALLOWED, "a transformers BertModel state dict, as save_pretrained(safe_serialization=False) writes it")
    save("training_args.bin", TrainingArguments(output_dir=os.path.join(out_dir, "trainer-out"), report_to=[]), "code-capable", "a Hugging Face Trainer's training_args.bin (the TrainingArguments object)", names="transformers.training_args.TrainingArguments")
except ImportError as e:
    print(f"transformers is not usable ({e}): its files are left out", file=sys.stderr)

try:
    import joblib
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), np.array([0, 1]))
    joblib.dump(model, os.path.join(out_dir, "sklearn.joblib"))
    record("sklearn.joblib", "code-capable", "a scikit-learn model saved with joblib", names="sklearn.linear_model._logistic.LogisticRegression")
    with open(os.path.join(out_dir, "sklearn.pkl"), "wb") as f:
        pickle.dump(model, f)
    record("sklearn.pkl", "code-capable", "the same with pickle.dump", names="sklearn.linear_model._logistic.LogisticRegression")
except ImportError:
    print("scikit-learn is not installed: its files are left out", file=sys.stderr)

# --- NumPy ---------------------------------------------------------------------------------------
np.save(os.path.join(out_dir, "array.npy"), np.arange(12, dtype=np.float32).reshape(3, 4))
record("array.npy", "data-only", "np.save of a float32 array")
np.save(os.path.join(out_dir, "objects.npy"), np.array([1, "a", None], dtype=object), allow_pickle=True)
record("objects.npy", ALLOWED, "np.save of an object array (a pickle of plain values)")
np.save(os.path.join(out_dir, "objects-payload.npy"), np.array([Payload()], dtype=object), allow_pickle=True)
record("objects-payload.npy", "code-capable", "an object array holding a payload", names="posix.system")
np.savez(os.path.join(out_dir, "arrays.npz"), a=np.arange(3), b=np.ones((2, 2)))
record("arrays.npz", "data-only", "np.savez of numeric arrays")
np.savez_compressed(os.path.join(out_dir, "arrays-compressed.npz"), a=np.arange(300), b=np.zeros(64))
record("arrays-compressed.npz", "data-only", "np.savez_compressed of numeric arrays (deflated members)")
np.savez(os.path.join(out_dir, "objects.npz"), a=np.array([1, "x"], dtype=object))
record("objects.npz", ALLOWED, "np.savez of an object array")
np.savez(os.path.join(out_dir, "objects-payload.npz"), a=np.arange(2), evil=np.array([Payload()], dtype=object))
record("objects-payload.npz", "code-capable", "np.savez with an object array holding a payload", names="posix.system")
np.savez_compressed(os.path.join(out_dir, "objects-payload-compressed.npz"), evil=np.array([Payload()], dtype=object))
record("objects-payload-compressed.npz", "code-capable", "np.savez_compressed with a payload (a compressed pickle: refused, and named)", names="posix.system")
os.replace(os.path.join(out_dir, "objects-payload.npz"), os.path.join(out_dir, "objects-payload-npz.npy"))
files[-2]["file"] = "objects-payload-npz.npy"
files[-2]["note"] = "an .npz with a payload, named .npy (NumPy opens by signature, not by name)"

# --- malicious files made with the real tools ---------------------------------------------------
save("payload.pt", {"w": torch.ones(2), "evil": Payload()}, "code-capable", "torch.save of a state dict holding a payload", names="posix.system")
save("payload-late.pt", {f"layer{k}.weight": torch.ones(2) for k in range(6)} | {"evil": Payload()}, "code-capable", "a payload after six tensors (its GLOBAL far into data.pkl)", names="posix.system")
save("payload-eval.bin", {"evil": EvalPayload()}, "code-capable", "a payload calling builtins.eval", names="builtins.eval")
save("payload-legacy.pth", {"w": torch.ones(2), "evil": Payload()}, "code-capable", "a payload in the legacy format", names="posix.system", _use_new_zipfile_serialization=False)
save("payload.ckpt", {"state_dict": {"w": torch.ones(1)}, "evil": Payload()}, "code-capable", "a payload in a .ckpt", names="posix.system")
save("payload.pth.tar", {"evil": Payload()}, "code-capable", "a payload in a .pth.tar", names="posix.system")
raw_payload = pickle.dumps(Payload(), protocol=2)
for ext in ["pkl", "pickle", "pth", "pth.tar", "pt", "bin", "ckpt", "joblib"]:
    write(f"raw-payload.{ext}", raw_payload, "code-capable", f"a raw pickle payload named .{ext}", names="posix.system")
    write(f"raw-payload-trailing.{ext}", raw_payload + b"\x00trailing bytes after STOP", "code-capable", f"the same followed by bytes pickle.load ignores, named .{ext}", names="posix.system")
write("raw-payload-noext", raw_payload, "code-capable", "a raw pickle payload with no extension (a Hugging Face blob)", names="posix.system")
write("raw-payload-text.txt", raw_payload, "code-capable", "a raw pickle payload under a name no loader opens: still named", names="posix.system")
write("raw-state.pickle", pickle.dumps({"a": [1, 2]}, protocol=2) + b"\n# trailing note\n", "data-only", "a plain-data pickle followed by trailing bytes, named .pickle")
write("latin1-protocol0.pkl", pickle.dumps({"name": "caf\xe9"}, protocol=0), "data-only", "a protocol-0 pickle holding a raw Latin-1 byte")
write("latin1-protocol0-payload.pickle", pickle.dumps([["caf\xe9"], Payload()], protocol=0), "code-capable", "a protocol-0 payload after a raw Latin-1 byte", names="posix.system")
write("readme-nb.md", b"N.B. this is a README that begins like a pickle.\n", "unknown", "a README beginning 'N.B.' (NONE, STOP, then text)")

oracle = {"torchVersion": torch.__version__, "numpyVersion": np.__version__, "files": files}
with open(os.path.join(out_dir, "oracle.json"), "w") as f:
    json.dump(oracle, f, indent=1)
    f.write("\n")
for stray in ["trainer-out", "lightning_logs"]:
    if os.path.isdir(os.path.join(out_dir, stray)):
        import shutil

        shutil.rmtree(os.path.join(out_dir, stray))
print(f"{len(files)} files in {out_dir} (torch {torch.__version__})")
