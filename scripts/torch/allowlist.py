#!/usr/bin/env python3
"""Writes src/core/scan/pickle/allowlist.json from an installed PyTorch: every global its
`weights_only` unpickler allows by default (torch._weights_only_unpickler._get_allowed_globals,
the list torch.load(weights_only=True) checks), the modules it blocks whatever a user adds, and
the torch version; beside them the checkpoint extension (globals real Stable Diffusion,
Lightning and NumPy-bearing checkpoints hold that torch's defaults do not allow), which is kept
from the committed file, and the allowlist version.

Usage:
  allowlist.py --version YYYY-MM-DD [--out FILE]   regenerate (a new version: verdicts may change)
  allowlist.py --check [--out FILE]                 exit 1 if FILE's torch list differs from this torch's

Needs torch (scripts/torch/venv.sh makes a virtual environment with it, offline).
"""
import argparse
import json
import os
import sys

import torch
from torch._weights_only_unpickler import _blocklisted_modules, _get_allowed_globals

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "src", "core", "scan", "pickle", "allowlist.json")

parser = argparse.ArgumentParser()
parser.add_argument("--version")
parser.add_argument("--check", action="store_true")
parser.add_argument("--out", default=DEFAULT_OUT)
args = parser.parse_args()

with open(args.out) as f:
    committed = json.load(f)

torch_allowed = sorted(_get_allowed_globals().keys())
if args.check:
    same = committed["torch"]["allowed"] == torch_allowed and committed["torch"]["blockedModules"] == list(_blocklisted_modules)
    if not same:
        added = sorted(set(torch_allowed) - set(committed["torch"]["allowed"]))
        removed = sorted(set(committed["torch"]["allowed"]) - set(torch_allowed))
        print(f"allowlist.json was made from torch {committed['torch']['version']}; torch {torch.__version__} differs: added {added}, removed {removed}", file=sys.stderr)
        sys.exit(1)
    print(f"allowlist.json matches torch {torch.__version__}'s weights_only defaults ({len(torch_allowed)} globals)")
    sys.exit(0)

if not args.version:
    parser.error("--version YYYY-MM-DD is required to regenerate (verdicts may change)")
out = {
    "version": args.version,
    "torch": {"version": torch.__version__, "allowed": torch_allowed, "blockedModules": list(_blocklisted_modules)},
    "extension": committed["extension"],
    "names": committed["names"],
}
with open(args.out, "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print(f"wrote {args.out}: torch {torch.__version__}, {len(torch_allowed)} globals, {len(out['extension']['globals'])} in the extension")
