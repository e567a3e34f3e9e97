"""With MODELSIGN_PY_INSTALLED=1 (.ci/run, the publish workflow), the tests must run against the
installed wheel, never the source tree next to them."""
from __future__ import annotations

import os
from pathlib import Path

import modelsign_verify

if os.environ.get("MODELSIGN_PY_INSTALLED") == "1":
    source = Path(__file__).resolve().parents[1] / "src"
    here = Path(modelsign_verify.__file__).resolve()
    assert source not in here.parents, f"testing the source tree ({here}), not the installed package"
