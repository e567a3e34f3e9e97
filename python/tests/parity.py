"""Runs the parity vectors (test/parity/vectors.json, test/vectors/witness/cases.json) through
this package and gives each case's outcome in the vectors' own terms: ``{"valid", "reasons"}``
(reason codes in order), ``{"error": code}`` for a chain that does not check out, or
``{"error": "mldsa_unavailable"}`` when an ML-DSA-44 cosignature had to be checked and the
installed cryptography cannot. test_parity.py asserts them; test/parity/parity.test.ts runs this
file as a script (``python3 parity.py FILE...``, one JSON line per case) so that ``npm test``
holds the Python verifier to the vectors too."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, List

from modelsign_verify import (
    FileDigest,
    KeyChainError,
    KeySet,
    MLDSAUnavailableError,
    TrustedKey,
    parse_jwk,
    parse_spki_pem,
    parse_witness_policy,
    trusted_keys_from_jwks,
    verify_bundle,
    verify_key_chain,
)
from modelsign_verify.keys import parse_time
from modelsign_verify.witness import WitnessRequirement

REPO = Path(__file__).resolve().parents[2]
PARITY = REPO / "test" / "parity" / "vectors.json"
WITNESS = REPO / "test" / "vectors" / "witness" / "cases.json"


def _raw_keys(entries: List[Dict[str, Any]]) -> List[TrustedKey]:
    """Trust entries as given (no kid check: a case may pair a kid with another key on purpose)."""
    out = []
    for e in entries:
        key = parse_jwk(e["jwk"])
        assert key is not None, e
        out.append(TrustedKey(kid=e["kid"], key=key, purpose=e["purpose"], status=e["status"], compromised_at=parse_time(e.get("compromisedAt"))))
    return out


def run_parity_case(case: Dict[str, Any]) -> Dict[str, Any]:
    trust = case["trust"]
    try:
        if "keys" in trust:
            keys = _raw_keys(trust["keys"])
        elif "jwks" in trust:
            keys = trusted_keys_from_jwks(trust["jwks"]) or []
        else:
            pin = parse_spki_pem(trust["pin"])
            assert pin is not None
            keys = verify_key_chain(trust["chain"], pin)
    except KeyChainError as err:
        return {"error": err.code}
    files = [FileDigest(f["path"], f["sha256"]) for f in case["files"]] if case["files"] is not None else None
    w = case["witness"]
    witnesses = WitnessRequirement(parse_witness_policy(w["policy"]), w["proof"], w["now"]) if w else None
    try:
        verdict = verify_bundle(case["bundle"], KeySet(keys), files, skip_tlog=case["skipTlog"], witnesses=witnesses)
    except MLDSAUnavailableError:
        return {"error": "mldsa_unavailable"}
    return {"valid": verdict.valid, "reasons": verdict.codes}


def run_witness_case(vectors: Dict[str, Any], case: Dict[str, Any]) -> Dict[str, Any]:
    jwks = {"keys": [dict(k, status="revoked", compromisedAt=case["releaseKeyCompromisedAt"]) if k["purpose"] == "release" and case["releaseKeyCompromisedAt"] else k for k in vectors["keys"]["keys"]]}
    keys = KeySet(trusted_keys_from_jwks(jwks) or [])
    req = WitnessRequirement(parse_witness_policy(case["policy"]), case["proof"], case["now"])
    try:
        verdict = verify_bundle(case["bundle"], keys, witnesses=req)
    except MLDSAUnavailableError:
        return {"error": "mldsa_unavailable"}
    return {"valid": verdict.valid, "reasons": verdict.codes}


def main(paths: List[str]) -> None:
    for path in paths:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        witness_file = "releaseKeyCompromisedAt" in doc["cases"][0]
        for case in doc["cases"]:
            got = run_witness_case(doc, case) if witness_file else run_parity_case(case)
            print(json.dumps({"file": Path(path).name, "name": case["name"], "got": got}))


def signatures_main(path: str) -> None:
    """``--signatures FILE``: a JSON list of {alg, pk, msg, sig} (hex); prints a JSON list of verdicts."""
    from modelsign_verify.crypto import PublicKey, verify_signature

    cases = json.loads(Path(path).read_text(encoding="utf-8"))
    print(json.dumps([verify_signature(PublicKey(c["alg"], bytes.fromhex(c["pk"])), bytes.fromhex(c["sig"]), bytes.fromhex(c["msg"])) for c in cases]))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--signatures"]:
        signatures_main(sys.argv[2])
    else:
        main(sys.argv[1:] or [str(PARITY), str(WITNESS)])
