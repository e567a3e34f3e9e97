"""Checking a model on disk against its bundle, the check to run before loading it (the same
steps and outcomes as ``modelsign verify``, src/cli/verify-model.ts): the bundle is read and its
resource names checked before any model file is opened; then the files are listed (path safety),
hashed and compared, and the signature, key, log entry and witnesses checked by verify_bundle.
The content check (scan/) runs in the same read: a file that can run code when loaded, or is
malformed, fails the check (outcome ``unsafe``, exit 8) unless ``allow_unsafe_content``."""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, TextIO, Tuple

from .bundle import ReleaseClaim, read_claim, read_envelope
from .encoding import parse_json
from .files import ModelPathError, default_bundle_path, list_model
from .hashing import hash_and_check_files
from .keys import KeySet
from .manifest import printable_name
from .reasons import UNTRUSTED_CODES, Reason
from .scan import ContentReport
from .verify import FileDigest, verify_bundle
from .witness import WitnessPolicy, WitnessRequirement

#: The exit codes of ``modelsign-verify``, the same as the Node CLI's for the same outcomes.
EXIT = {"ok": 0, "tampered": 1, "usage": 2, "untrusted": 3, "io": 4, "service": 5, "unsafe": 8}


def describe_content(path: str, report: ContentReport) -> str:
    """One file's verdict in words, as the Node CLI's describeContent: verdict, name, format, the first three findings."""
    reasons = "; ".join(f"{f.code}: {f.message}" for f in report.findings[:3])
    more = f" (and {len(report.findings) - 3} more)" if len(report.findings) > 3 else ""
    return f"{report.verdict}  {printable_name(path)}{f' ({report.format})' if report.format else ''}{f': {reasons}{more}' if reasons else ''}"


def content_reason(path: str, report: ContentReport) -> Reason:
    """Why a file's content refuses the load: ``content_code_capable`` or ``content_malformed``, naming the file."""
    code = "content_code_capable" if report.verdict == "code-capable" else "content_malformed"
    return Reason(code, describe_content(path, report), path)


def read_bundle_file(path: str) -> Tuple[Optional[object], Optional[ReleaseClaim], List[Reason]]:
    """The bundle at ``path`` parsed, and its release claim (resource names checked: before any
    model file is opened), or why not: ``bundle_missing``, ``bundle_unreadable``,
    ``bundle_malformed``, or the envelope's or claim's own reasons."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return None, None, [Reason("bundle_missing", f"no bundle at {path}")]
    except OSError as err:
        return None, None, [Reason("bundle_unreadable", f"cannot read {path}: {err.strerror}")]
    try:
        parsed = parse_json(text)
    except ValueError:
        return None, None, [Reason("bundle_malformed", f"{path} is not JSON")]
    envelope, problems = read_envelope(parsed)
    claim, claim_problems = read_claim(envelope.payload) if envelope is not None else (None, [])
    if envelope is None or claim is None:
        return parsed, None, problems or claim_problems
    return parsed, claim, []


@dataclass
class ModelReport:
    path: str
    bundle: str
    outcome: str = "error"
    exit_code: int = EXIT["io"]
    model: Optional[str] = None
    version: Optional[str] = None
    kid: Optional[str] = None
    key_status: Optional[str] = None
    log_index: Optional[int] = None
    log_checked: bool = False
    reasons: List[Reason] = field(default_factory=list)
    changed: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    extra: List[str] = field(default_factory=list)
    layout: Optional[str] = None
    witness_proof: Optional[str] = None
    #: What the content check says of each file now (it runs in the hashing pass).
    content: List[Dict[str, Any]] = field(default_factory=list)
    #: allow_unsafe_content was given: unsafe content is reported, not failed on.
    unsafe_content_allowed: bool = False

    @property
    def verified(self) -> bool:
        return self.outcome == "verified"

    def to_json(self) -> Dict[str, Any]:
        return {
            "path": self.path,
            "bundle": self.bundle,
            "outcome": self.outcome,
            "exitCode": self.exit_code,
            "model": self.model,
            "version": self.version,
            "kid": self.kid,
            "keyStatus": self.key_status,
            "logIndex": self.log_index,
            "logChecked": self.log_checked,
            "reasons": [r.to_json() for r in self.reasons],
            "changed": self.changed,
            "missing": self.missing,
            "extra": self.extra,
            "layout": self.layout,
            "witnessProof": self.witness_proof,
            "content": self.content,
            "unsafeContentAllowed": self.unsafe_content_allowed,
        }


def verify_model(
    target: str,
    keys: KeySet,
    *,
    bundle: Optional[str] = None,
    allow_symlinks: bool = False,
    expect: Optional[str] = None,
    witness_policy: Optional[WitnessPolicy] = None,
    proof: Optional[str] = None,
    now: Optional[float] = None,
    threads: Optional[int] = None,
    progress: Optional[TextIO] = None,
    allow_unsafe_content: bool = False,
) -> ModelReport:
    """Verifies the model at ``target`` (a folder or one file). ``proof`` is a tlog-proof file
    (default: the bundle's path + ``.tlog-proof`` when it exists); ``now`` the clock witness
    cosignatures are checked against (POSIX seconds, default the system clock)."""
    bundle_path = bundle or default_bundle_path(target)
    report = ModelReport(path=target, bundle=bundle_path, log_checked=keys.has_log_key, unsafe_content_allowed=allow_unsafe_content)

    def fail(outcome: str, exit_code: int, code: str, message: str) -> ModelReport:
        report.outcome, report.exit_code = outcome, exit_code
        report.reasons.append(Reason(code, message))
        return report

    if not os.path.lexists(target):
        return fail("error", EXIT["io"], "path_unreadable", f"{target}: no such file or folder")
    parsed, claim, bundle_problems = read_bundle_file(bundle_path)
    if claim is None:
        first = bundle_problems[0]
        if first.code == "bundle_missing":
            return fail("unsigned", EXIT["io"], first.code, first.message)
        if first.code == "bundle_unreadable":
            return fail("error", EXIT["io"], first.code, first.message)
        report.reasons.extend(bundle_problems)
        report.outcome, report.exit_code = "tampered", EXIT["tampered"]
        return report
    try:
        listing = list_model(target, allow_symlinks or claim.allow_symlinks, claim.ignore_paths)
    except ModelPathError as err:
        return fail("error", EXIT["io"], "path_unreadable", str(err))
    report.layout = listing.layout
    try:
        hashed = hash_and_check_files(listing.files, threads=threads, progress=progress)
    except OSError as err:
        return fail("error", EXIT["io"], "path_unreadable", f"cannot read {err.filename}: {err.strerror}")
    witnesses = None
    if witness_policy is not None:
        proof_path = proof or f"{bundle_path}.tlog-proof"
        proof_text: Optional[str] = None
        try:
            with open(proof_path, encoding="utf-8", errors="replace") as f:
                proof_text = f.read()
        except OSError as err:
            if not isinstance(err, FileNotFoundError) or proof is not None:
                return fail("error", EXIT["io"], "proof_unreadable", f"cannot read the tlog-proof {proof_path}: {err.strerror}")
        report.witness_proof = proof_path if proof_text is not None else None
        witnesses = WitnessRequirement(witness_policy, proof_text, int(now if now is not None else time.time()))
    files = [FileDigest(f.path, d) for f, (d, _) in zip(listing.files, hashed)]
    report.content = [{"path": f.path, **c.to_json()} for f, (_, c) in zip(listing.files, hashed)]
    verdict = verify_bundle(parsed, keys, files, skip_tlog=not keys.has_log_key, witnesses=witnesses)
    report.model, report.version, report.kid = verdict.model, verdict.version, verdict.kid
    report.key_status, report.log_index = verdict.key_status, verdict.log_index
    reasons = [Reason(p.code, p.message, p.path) for p in listing.problems] + verdict.reasons
    if expect is not None and verdict.model is not None:
        signed = f"{verdict.model}@{verdict.version}"
        wanted = signed if "@" in expect else verdict.model
        if wanted != expect:
            reasons.append(Reason("release_unexpected", f"the bundle signs {signed}; expected {expect}"))
    # Content that can run code fails the check (its own outcome) unless the caller accepted it.
    content_reasons = [] if allow_unsafe_content else [content_reason(f.path, c) for f, (_, c) in zip(listing.files, hashed) if c.unsafe]
    report.reasons = reasons + content_reasons
    for r in verdict.reasons:
        if r.code == "file_changed" and r.path is not None:
            report.changed.append(r.path)
        elif r.code == "file_missing" and r.path is not None:
            report.missing.append(r.path)
        elif r.code == "file_extra" and r.path is not None:
            report.extra.append(r.path)
    # A symlink or special file where a signed file should be is a change to that file.
    for p in listing.problems:
        if p.path in report.missing:
            report.missing.remove(p.path)
            report.changed.append(p.path)
    if not reasons and not content_reasons:
        report.outcome, report.exit_code = "verified", EXIT["ok"]
    elif any(r.code not in UNTRUSTED_CODES for r in reasons):
        report.outcome, report.exit_code = "tampered", EXIT["tampered"]
    elif content_reasons:
        # Not what was signed beats everything; unsafe content beats an untrusted key (either refuses the load).
        report.outcome, report.exit_code = "unsafe", EXIT["unsafe"]
    else:
        report.outcome, report.exit_code = "untrusted", EXIT["untrusted"]
    return report


def describe(report: ModelReport) -> List[str]:
    """The report as the Node CLI prints it."""
    where = printable_name(report.path)
    what = f"{report.model}@{report.version}" if report.model else where
    if report.outcome == "verified":
        log = f", log entry {report.log_index}" if report.log_index is not None else ""
        unchecked = "" if report.log_checked else "; the log entry was not checked (no log key trusted)"
        return [f"verified: {where} is {what}, signed by {(report.kid or '')[:12]} ({report.key_status}){log}{unchecked}"]
    if report.outcome in ("error", "unsigned"):
        return [f"{report.outcome}: {report.reasons[0].message if report.reasons else where}"]
    lines = [f"{report.outcome}: {where}" + (f" ({what})" if report.model else "")]
    for r in report.reasons:
        lines.append(f"  {r.code}{' ' + printable_name(r.path) if r.path is not None else ''}: {r.message}")
    return lines


def report_json(report: ModelReport) -> str:
    return json.dumps(report.to_json())
