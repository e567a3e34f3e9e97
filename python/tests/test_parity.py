"""The parity vectors against this package (the TypeScript verifier is held to the same file by
test/parity/parity.test.ts). Under a cryptography without ML-DSA (Debian's 38), a case whose
policy names an ML-DSA-44 witness must raise MLDSAUnavailableError, never pass or fail silently."""
from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest

import modelsign_verify.tlog
from modelsign_verify import REASON_CODES, mldsa_available, parse_witness_policy
from modelsign_verify.note import NOTE_TYPE_MLDSA44
from parity import PARITY, WITNESS, run_parity_case, run_witness_case

PARITY_DOC: Dict[str, Any] = json.loads(PARITY.read_text(encoding="utf-8"))
WITNESS_DOC: Dict[str, Any] = json.loads(WITNESS.read_text(encoding="utf-8"))


def _needs_mldsa(case: Dict[str, Any]) -> bool:
    return any(w.key.type == NOTE_TYPE_MLDSA44 for w in parse_witness_policy(case["policy"]).witnesses)


def test_reason_codes_are_the_typescript_ones() -> None:
    assert list(REASON_CODES) == PARITY_DOC["reasonCodes"]


@pytest.mark.parametrize("case", PARITY_DOC["cases"], ids=[c["name"] for c in PARITY_DOC["cases"]])
def test_parity_case(case: Dict[str, Any]) -> None:
    assert run_parity_case(case) == case["expect"]


@pytest.mark.parametrize("case", WITNESS_DOC["cases"], ids=[c["name"] for c in WITNESS_DOC["cases"]])
def test_witness_case(case: Dict[str, Any]) -> None:
    got = run_witness_case(WITNESS_DOC, case)
    if not mldsa_available() and _needs_mldsa(case) and got != case["expect"]:
        assert got == {"error": "mldsa_unavailable"}
    else:
        assert got == case["expect"]


def test_mldsa_cases_exist() -> None:
    assert sum(1 for c in WITNESS_DOC["cases"] if _needs_mldsa(c)) >= 3


def test_the_suite_notices_a_skipped_inclusion_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the inclusion check removed, the vectors that test it fail: the suite can catch a
    verifier that skips a step."""
    monkeypatch.setattr(modelsign_verify.tlog, "verify_inclusion", lambda *args: None)
    wrong: List[str] = [c["name"] for c in PARITY_DOC["cases"] if run_parity_case(c) != c["expect"]]
    assert len(wrong) >= 9 and all("inclusion" in n or "many-at-once" in n for n in wrong), wrong
