"""Verification of a modelsign bundle, step by step as src/core/verify-bundle.ts does it (and in
the same order, so both list the same reasons): pure, no file or network access. The verdict
lists every reason the bundle is not valid rather than stopping at the first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional, Sequence

from .bundle import ReleaseClaim, read_claim, read_envelope
from .crypto import key_id, signature_problem, verify_signature
from .dsse import pre_auth_encoding
from .keys import KeySet, TrustedKey
from .manifest import is_ignored_path, printable_name, root_digest
from .reasons import Reason, Verdict
from .tlog import EntryFacts, VerifiedEntry, check_tlog_entry
from .witness import PROOF_FILE_NAME, WitnessRequirement, check_witnessed


@dataclass(frozen=True)
class FileDigest:
    path: str
    sha256: str


def _signature_reason(key: TrustedKey, hint: str, signature: bytes, message: bytes) -> Optional[Reason]:
    problem = signature_problem(key.algorithm, signature)
    if problem is not None:
        return Reason("signature_malformed", f"key {hint} is an {key.algorithm} key: {problem}")
    if not verify_signature(key.key, signature, message):
        return Reason("signature_invalid", "the signature does not verify over the payload with the named key")
    return None


def verify_bundle(
    bundle: object,
    keys: KeySet,
    files: Optional[Sequence[FileDigest]] = None,
    *,
    require_tlog: bool = True,
    skip_tlog: bool = False,
    witnesses: Optional[WitnessRequirement] = None,
) -> Verdict:
    """Checks ``bundle`` (parsed JSON) against trusted ``keys`` and, when given, the files present.
    ``skip_tlog`` leaves the log entry unchecked (no log key is trusted): nothing then proves when
    the signature was made, so a revoked key's signatures are all refused. ``witnesses`` requires
    the entry to be in a checkpoint the policy's quorum cosigned."""
    verdict = Verdict()
    envelope, problems = read_envelope(bundle)
    if envelope is None:
        verdict.reasons = problems
        return verdict
    reasons: List[Reason] = []
    hint = envelope.hint
    verdict.kid = hint
    key = keys.resolve(hint)
    revoked = False
    if key is None:
        reasons.append(Reason("key_unknown", f"no trusted key has kid {hint!r}"))
    else:
        verdict.key_status = key.status
        if key_id(key.key) != hint:
            reasons.append(Reason("key_mismatch", f"trusted key for {hint} hashes to another kid"))
        if key.purpose != "release":
            reasons.append(Reason("key_wrong_purpose", f"key {hint} is a {key.purpose} key, not a release key"))
        if key.status == "pending":
            reasons.append(Reason("key_not_active", f"key {hint} is pending and has never signed releases"))
        revoked = key.status == "revoked"
        bad = _signature_reason(key, hint, envelope.signature, pre_auth_encoding(envelope.payload_type, envelope.payload))
        if bad is not None:
            reasons.append(bad)

    claim, claim_problems = read_claim(envelope.payload)
    if claim is None:
        if revoked and key is not None:
            reasons.append(_revoked_reason(hint, key.compromised_at, None))
        verdict.reasons = reasons + claim_problems
        return verdict
    verdict.model = claim.model
    verdict.version = claim.version
    verdict.root_digest = claim.root_digest
    if claim.model is None:
        reasons.append(Reason("subject_malformed", f"subject name {claim.subject!r} is not namespace/name@version"))
    recomputed = root_digest([d for _, d in claim.resources])
    if recomputed != claim.root_digest:
        reasons.append(Reason("root_digest_mismatch", f"subject digest {claim.root_digest} but the resources hash to {recomputed}"))

    logged: Optional[VerifiedEntry] = None
    if not skip_tlog:
        entries = envelope.tlog_entries
        if not entries:
            if require_tlog:
                reasons.append(Reason("tlog_entry_missing", "the bundle carries no transparency-log entry"))
        elif key is not None:
            if len(entries) > 1:
                reasons.append(Reason("tlog_entry_malformed", f"expected one transparency-log entry, found {len(entries)}"))
            else:
                facts = EntryFacts(claim.subject, claim.root_digest, envelope.payload_type, envelope.payload, hint, key.key, envelope.signature)
                logged, entry_reasons = check_tlog_entry(entries[0], facts, keys)
                reasons.extend(entry_reasons)
    if logged is not None:
        verdict.log_index = logged.log_index
        verdict.integrated_time = logged.integrated_time
    if witnesses is not None:
        if logged is not None:
            reasons.extend(check_witnessed(witnesses, logged.log_index, logged.leaf_hash, logged.checkpoint, logged.log_key, keys.log_keys()))
        elif skip_tlog:
            reasons.append(Reason("witness_quorum_not_met", "a witness policy needs the log entry checked, and no log key is trusted (give --keys, --server, a chain or a trusted root)"))
    if revoked and key is not None and not _logged_before(logged, key.compromised_at):
        reasons.append(_revoked_reason(hint, key.compromised_at, logged))
    if files is not None:
        reasons.extend(compare_files(claim, files))
    verdict.reasons = reasons
    verdict.valid = not reasons
    return verdict


def _logged_before(logged: Optional[VerifiedEntry], compromised_at: Optional[datetime]) -> bool:
    # The log's signed time says the entry existed by the end of that second.
    if logged is None or logged.integrated_time is None or compromised_at is None:
        return False
    return (logged.integrated_time + 1) * 1000 <= round(compromised_at.timestamp() * 1000)


def _revoked_reason(kid: str, compromised_at: Optional[datetime], logged: Optional[VerifiedEntry]) -> Reason:
    if compromised_at is None:
        return Reason("key_revoked", f"key {kid} is revoked")
    when = compromised_at.isoformat()
    if logged is None or logged.integrated_time is None:
        return Reason("key_revoked", f"key {kid} was compromised at {when} and no verified log entry proves this signature is older")
    return Reason("key_revoked", f"key {kid} was compromised at {when}; this signature was logged at POSIX time {logged.integrated_time}, not before")


def compare_files(claim: ReleaseClaim, files: Sequence[FileDigest]) -> List[Reason]:
    """Changed, missing and extra files, each named, in resource order then file order."""
    reasons: List[Reason] = []
    present = {f.path: f.sha256 for f in files}
    signed = set()
    for name, digest in claim.resources:
        signed.add(name)
        actual = present.get(name)
        if actual is None:
            reasons.append(Reason("file_missing", f"{printable_name(name)} is signed but missing", name))
        elif actual != digest:
            reasons.append(Reason("file_changed", f"{printable_name(name)} has SHA-256 {actual}, signed {digest}", name))
    for f in files:
        # The witness proof beside model.sig is never a release file.
        if f.path not in signed and not is_ignored_path(f.path, claim.ignore_paths) and f.path != PROOF_FILE_NAME:
            reasons.append(Reason("file_extra", f"{printable_name(f.path)} is not part of the signed release", f.path))
    return reasons
