#!/usr/bin/env bash
# A virtual environment with PyTorch (CPU), the tools the real-file corpus is made with, and what
# the Python guard's tests on the real loaders need (safetensors, transformers, pyca/cryptography,
# pytest: python/tests/test_guard_real.py), from
# the package sources pip is configured with on these machines (`pip config list`), named as the
# index so that pip never waits on the public one. They are not PyPI: nothing a user installs
# depends on them. Usage: scripts/torch/venv.sh DIR   (then DIR/bin/python scripts/torch/...)
set -euo pipefail
dir=${1:?usage: venv.sh DIR}
if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c 'import torch, numpy, lightning, transformers, accelerate, sklearn, safetensors, cryptography, pytest' 2>/dev/null; then exit 0; fi
python3 -m venv "$dir"
sources=()
for url in $(pip config get global.extra-index-url 2>/dev/null || true); do sources+=(--extra-index-url "$url"); done
for dir_ in $(pip config get global.find-links 2>/dev/null || true); do sources+=(--find-links "$dir_"); done
if [ ${#sources[@]} -eq 0 ]; then echo "venv.sh: pip has no local package sources configured here (pip config list): no torch" >&2; exit 3; fi
# The first extra index becomes the index: no public index is asked.
sources[0]=--index-url
# (pip warns once per package an index does not hold: noise, filtered.)
"$dir/bin/pip" install -q --disable-pip-version-check "${sources[@]}" torch numpy lightning transformers accelerate scikit-learn joblib safetensors cryptography pytest \
  2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
