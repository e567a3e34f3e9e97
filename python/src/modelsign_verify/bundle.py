"""Structural reading of a bundle (src/core/read-bundle.ts): the Sigstore bundle v0.3 with one
DSSE envelope, and the OMS statement inside. Nothing here trusts the content: the signature over
the payload is checked before anything acts on the statement."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple, Union

from .dsse import IN_TOTO_PAYLOAD_TYPE
from .encoding import from_base64, is_sha256_hex, parse_json, utf8_text
from .manifest import escape_name, invisible_character, path_problem
from .reasons import Reason

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
OMS_PREDICATE_TYPE = "https://model_signing/signature/v1.0"

_NAMESPACE = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?")
_MODEL_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


@dataclass
class Envelope:
    hint: str
    payload_type: str
    payload: bytes
    signature: bytes
    tlog_entries: List[Any]


@dataclass
class ReleaseClaim:
    subject: str
    model: Optional[str]
    version: Optional[str]
    root_digest: str
    #: (name, digest) in resource order.
    resources: List[Tuple[str, str]]
    ignore_paths: List[str]
    allow_symlinks: bool
    #: The signer's content-check record, as the bundle holds it (None when absent).
    content: Any = field(default=None)


Read = Union[Tuple[Envelope, None], Tuple[None, List[Reason]]]


def _fail(code: str, message: str) -> Tuple[None, List[Reason]]:
    return None, [Reason(code, message)]


def parse_subject_name(subject: str) -> Optional[Tuple[str, str]]:
    """``namespace/name@version`` as (model, version), or None."""
    at = subject.rfind("@")
    slash = subject.find("/")
    if at < 0 or slash < 0:
        return None
    model, version = subject[:at], subject[at + 1 :]
    ns, _, name = model.partition("/")
    if not _NAMESPACE.fullmatch(ns) or not _MODEL_NAME.fullmatch(name) or not _VERSION.fullmatch(version):
        return None
    return model, version


def read_envelope(bundle: object) -> Tuple[Optional[Envelope], List[Reason]]:
    if not isinstance(bundle, dict):
        return _fail("bundle_malformed", "bundle must be a JSON object")
    if bundle.get("mediaType") != BUNDLE_MEDIA_TYPE:
        return _fail("bundle_media_type", f"mediaType must be {BUNDLE_MEDIA_TYPE}, got {bundle.get('mediaType')!r}")
    material = bundle.get("verificationMaterial")
    public_key = material.get("publicKey") if isinstance(material, dict) else None
    if not isinstance(material, dict) or not isinstance(public_key, dict) or not isinstance(public_key.get("hint"), str):
        return _fail("bundle_malformed", "verificationMaterial.publicKey.hint must be a string")
    entries = material.get("tlogEntries")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        return _fail("bundle_malformed", "verificationMaterial.tlogEntries must be an array")
    env = bundle.get("dsseEnvelope")
    if not isinstance(env, dict) or not isinstance(env.get("payload"), str) or not isinstance(env.get("payloadType"), str) or not isinstance(env.get("signatures"), list):
        return _fail("bundle_malformed", "dsseEnvelope must have payload, payloadType and signatures")
    if env["payloadType"] != IN_TOTO_PAYLOAD_TYPE:
        return _fail("payload_type", f"payloadType must be {IN_TOTO_PAYLOAD_TYPE}, got {env['payloadType']!r}")
    if len(env["signatures"]) != 1:
        return _fail("signature_count", f"expected 1 signature, found {len(env['signatures'])}")
    sig = env["signatures"][0]
    signature = from_base64(sig.get("sig")) if isinstance(sig, dict) else None
    if signature is None:
        return _fail("signature_malformed", "dsseEnvelope.signatures[0].sig must be canonical base64")
    payload = from_base64(env["payload"])
    if payload is None:
        return _fail("bundle_malformed", "dsseEnvelope.payload must be canonical base64")
    return Envelope(public_key["hint"], env["payloadType"], payload, signature, entries), []


def read_claim(payload: bytes) -> Tuple[Optional[ReleaseClaim], List[Reason]]:
    try:
        statement = parse_json(utf8_text(payload))
    except ValueError:
        return _fail("payload_malformed", "payload is not UTF-8 JSON")
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE or statement.get("predicateType") != OMS_PREDICATE_TYPE:
        return _fail("statement_unsupported", f"payload must be an {STATEMENT_TYPE} statement with predicateType {OMS_PREDICATE_TYPE}")
    predicate = statement.get("predicate")
    serialization = predicate.get("serialization") if isinstance(predicate, dict) else None
    if (
        not isinstance(predicate, dict)
        or not isinstance(serialization, dict)
        or serialization.get("method") != "files"
        or serialization.get("hash_type") != "sha256"
        or not isinstance(predicate.get("resources"), list)
    ):
        return _fail("statement_unsupported", 'predicate must list resources and use serialization method "files" with hash_type "sha256"')
    subjects = statement.get("subject")
    subject = subjects[0] if isinstance(subjects, list) and len(subjects) == 1 else None
    digest = subject.get("digest") if isinstance(subject, dict) else None
    if not isinstance(subject, dict) or not isinstance(subject.get("name"), str) or not isinstance(digest, dict) or not is_sha256_hex(digest.get("sha256")):
        return _fail("subject_malformed", "statement must have exactly one subject with a name and a sha256 digest")
    ignore = serialization.get("ignore_paths")
    if ignore is None:
        ignore = []
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        return _fail("statement_unsupported", "serialization.ignore_paths must be an array of strings")
    reasons: List[Reason] = []
    resources: List[Tuple[str, str]] = []
    seen = set()
    for i, r in enumerate(predicate["resources"]):
        where = f"predicate.resources[{i}]"
        if not isinstance(r, dict) or r.get("algorithm") != "sha256" or not isinstance(r.get("name"), str) or not is_sha256_hex(r.get("digest")):
            reasons.append(Reason("resource_malformed", f'{where} must be {{algorithm: "sha256", name, digest: 64 hex}}'))
            continue
        name = r["name"]
        problem = path_problem(name)
        hidden = invisible_character(name) if problem is not None else None
        if hidden:
            reasons.append(Reason("invisible_character", f"{where}.name {escape_name(name)} holds an invisible or bidirectional format character ({hidden}); it displays as another name", name))
        elif problem:
            reasons.append(Reason("resource_unsafe", f"{where}.name {problem}", name))
        elif name in seen:
            reasons.append(Reason("resource_malformed", f"{where}.name appears twice", name))
        seen.add(name)
        resources.append((name, r["digest"]))
    if reasons:
        return None, reasons
    release = parse_subject_name(subject["name"])
    return (
        ReleaseClaim(
            subject=subject["name"],
            model=release[0] if release else None,
            version=release[1] if release else None,
            root_digest=digest["sha256"],
            resources=resources,
            ignore_paths=list(ignore),
            allow_symlinks=serialization.get("allow_symlinks") is True,
            content=predicate.get("https://modelsign.dev/content-check/v1"),
        ),
        [],
    )
