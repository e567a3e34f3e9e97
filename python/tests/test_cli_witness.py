"""`modelsign-verify verify --witness-policy --proof` on the witnessed vectors
(test/vectors/witness/cases.json), as a user runs it: the release folder, model.sig, the
.tlog-proof beside it or --proof, a saved key set, the real command on the vectors' date (under
libfaketime: the command takes its clock from the system, as it should)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict

import pytest

from modelsign_verify import mldsa_available
from parity import WITNESS

DOC: Dict[str, Any] = json.loads(WITNESS.read_text(encoding="utf-8"))
FAKETIME = shutil.which("faketime")
pytestmark = pytest.mark.skipif(FAKETIME is None and os.environ.get("MODELSIGN_TEST_REQUIRE_FAKETIME") != "1", reason="needs faketime (apt-get install faketime; .ci/run requires it)")


def case(name: str) -> Dict[str, Any]:
    return next(c for c in DOC["cases"] if c["name"] == name)


def run(tmp: Path, c: Dict[str, Any], proof_beside: bool = True) -> "subprocess.CompletedProcess[str]":
    model = tmp / "model"
    model.mkdir()
    for name, text in DOC["files"].items():
        (model / name).write_text(text)
    (model / "model.sig").write_text(json.dumps(c["bundle"]))
    proof_args = []
    if c["proof"] is not None:
        proof = model / "model.sig.tlog-proof" if proof_beside else tmp / "elsewhere.tlog-proof"
        proof.write_text(c["proof"])
        proof_args = [] if proof_beside else ["--proof", str(proof)]
    (tmp / "policy").write_text(c["policy"])
    jwks = {"keys": [dict(k, status="revoked", compromisedAt=c["releaseKeyCompromisedAt"]) if k["purpose"] == "release" and c["releaseKeyCompromisedAt"] else k for k in DOC["keys"]["keys"]]}
    (tmp / "keys.json").write_text(json.dumps(jwks))
    at = "@" + time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(c["now"]))
    assert FAKETIME is not None
    return subprocess.run(
        [FAKETIME, "-f", at, sys.executable, "-m", "modelsign_verify", "verify", str(model), "--keys", str(tmp / "keys.json"), "--witness-policy", str(tmp / "policy"), *proof_args, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC", "FAKETIME_DONT_FAKE_MONOTONIC": "1"},
    )


@pytest.mark.parametrize("name", ["proof-meets-quorum", "own-checkpoint-meets-quorum", "timestamp-9-minutes-ahead", "revoked-after-logged-with-proof"])
def test_witnessed_release_verifies(tmp_path: Path, name: str) -> None:
    res = run(tmp_path, case(name))
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["witnessProof"] is not None or case(name)["proof"] is None


def test_the_proof_may_be_given_elsewhere(tmp_path: Path) -> None:
    res = run(tmp_path, case("proof-meets-quorum"), proof_beside=False)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize(
    "name,exit_code,code",
    [("proof-quorum-not-met", 3, "witness_quorum_not_met"), ("forged-cosignature", 1, "witness_signature_invalid"), ("proof-for-another-index", 1, "witness_proof_invalid"), ("timestamp-11-minutes-ahead", 1, "witness_signature_invalid")],
)
def test_refused_with_the_reason(tmp_path: Path, name: str, exit_code: int, code: str) -> None:
    res = run(tmp_path, case(name))
    assert res.returncode == exit_code, res.stdout + res.stderr
    assert [r["code"] for r in json.loads(res.stdout)["reasons"]] == [code]


def test_ml_dsa_44_needs_cryptography_47(tmp_path: Path) -> None:
    res = run(tmp_path, case("ml-dsa-44-quorum"))
    if mldsa_available():
        assert res.returncode == 0, res.stderr
    else:
        assert res.returncode == 2
        assert "cryptography>=47" in res.stderr
