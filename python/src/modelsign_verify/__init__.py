"""modelsign-verify: verify model releases signed by modelsign before loading them, with only
pyca/cryptography (no Node.js). The steps and reason codes are those of modelsign's TypeScript
verifier; a parity suite holds the two to the same verdicts.

    from modelsign_verify import KeySet, trusted_keys_from_jwks, verify_model
    keys = KeySet(trusted_keys_from_jwks(json.load(open("keys.json"))))
    report = verify_model("models/sdxl", keys)
    if not report.verified:
        raise SystemExit(f"refusing to load: {report.reasons}")
"""
from __future__ import annotations

__version__ = "0.1.0"

from .bundle import read_claim, read_envelope
from .crypto import PublicKey, key_id, parse_jwk, parse_spki_pem
from .keys import KeyChainError, KeySet, TrustedKey, log_keys_from_trusted_root, pinned_key, trusted_keys_from_jwks, verify_key_chain
from .model import EXIT, ModelReport, verify_model
from .note import TlogError
from .reasons import REASON_CODES, MLDSAUnavailableError, Reason, VerificationError, Verdict
from .verify import FileDigest, verify_bundle
from .witness import WitnessPolicy, WitnessRequirement, mldsa_available, parse_witness_policy


def assert_verified(target: str, keys: KeySet, **options: object) -> ModelReport:
    """verify_model, raising VerificationError (code = the first reason's) unless verified: the
    one call a loader makes before it opens a checkpoint."""
    report = verify_model(target, keys, **options)  # type: ignore[arg-type]
    if not report.verified:
        first = report.reasons[0] if report.reasons else Reason("refused", report.outcome)
        raise VerificationError(first.code, f"{target}: [{first.code}] {first.message}", report.reasons)
    return report


__all__ = [
    "EXIT",
    "REASON_CODES",
    "FileDigest",
    "KeyChainError",
    "KeySet",
    "MLDSAUnavailableError",
    "ModelReport",
    "PublicKey",
    "Reason",
    "TlogError",
    "TrustedKey",
    "VerificationError",
    "Verdict",
    "WitnessPolicy",
    "WitnessRequirement",
    "assert_verified",
    "key_id",
    "log_keys_from_trusted_root",
    "mldsa_available",
    "parse_jwk",
    "parse_spki_pem",
    "parse_witness_policy",
    "pinned_key",
    "read_claim",
    "read_envelope",
    "trusted_keys_from_jwks",
    "verify_bundle",
    "verify_key_chain",
    "verify_model",
]
