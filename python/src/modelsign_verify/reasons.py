"""Why a bundle did not verify: the same stable codes as the TypeScript verifier
(src/core/verdict.ts). Loaders and scripts branch on ``Reason.code``; messages are for people.
The parity suite checks that this list equals the TypeScript one."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

REASON_CODES = (
    "bundle_malformed",
    "bundle_media_type",
    "payload_type",
    "signature_count",
    "signature_malformed",
    "key_unknown",
    "key_mismatch",
    "key_wrong_purpose",
    "key_not_active",
    "key_revoked",
    "signature_invalid",
    "payload_malformed",
    "statement_unsupported",
    "subject_malformed",
    "resource_malformed",
    "resource_unsafe",
    "invisible_character",
    "root_digest_mismatch",
    "file_changed",
    "file_missing",
    "file_extra",
    "tlog_entry_missing",
    "tlog_entry_malformed",
    "tlog_body_mismatch",
    "log_key_unknown",
    "checkpoint_signature_invalid",
    "checkpoint_mismatch",
    "inclusion_proof_invalid",
    "witness_quorum_not_met",
    "witness_signature_invalid",
    "witness_proof_invalid",
    "witness_policy_invalid",
    # Online verification by the service only (POST /v1/verify); never produced offline.
    "signature_unrecorded",
)

# Reasons that say trust is missing rather than that something was altered (the CLI's exit 3).
UNTRUSTED_CODES = frozenset(
    {
        "key_unknown",
        "key_mismatch",
        "key_wrong_purpose",
        "key_not_active",
        "key_revoked",
        "log_key_unknown",
        "witness_quorum_not_met",
        "witness_policy_invalid",
    }
)


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    path: Optional[str] = None

    def to_json(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.path is not None:
            out["path"] = self.path
        return out


@dataclass
class Verdict:
    """The outcome of verify_bundle: valid only when ``reasons`` is empty."""

    valid: bool = False
    reasons: List[Reason] = field(default_factory=list)
    kid: Optional[str] = None
    key_status: Optional[str] = None
    model: Optional[str] = None
    version: Optional[str] = None
    root_digest: Optional[str] = None
    log_index: Optional[int] = None
    integrated_time: Optional[int] = None

    @property
    def codes(self) -> List[str]:
        return [r.code for r in self.reasons]


class VerificationError(Exception):
    """Raised by the loader-facing API when a model must not be loaded; ``code`` is stable."""

    def __init__(self, code: str, message: str, reasons: Optional[List[Reason]] = None) -> None:
        super().__init__(message)
        self.code = code
        self.reasons = reasons or []


class MLDSAUnavailableError(Exception):
    """An ML-DSA-44 cosignature had to be checked and the installed cryptography cannot."""
