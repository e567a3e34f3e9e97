"""Witnesses: C2SP tlog-policy, tlog-cosignature and tlog-proof, and whether a bundle's entry is
in a checkpoint a policy's quorum cosigned (src/core/tlog: witness-policy.ts, cosignature.ts,
tlog-proof.ts, witnessed.ts; docs/design/verification.md).

ML-DSA-44 cosignatures need pyca/cryptography 47 or later; with an older one, checking such a
cosignature raises MLDSAUnavailableError rather than guessing."""
from __future__ import annotations

import hmac
import importlib
import re
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from .crypto import ED25519, PublicKey, verify_signature
from .encoding import from_base64, parse_decimal, utf16_length
from .keys import TrustedKey
from .merkle import ProofError, verify_inclusion
from .note import (
    HASH_SIZE,
    MAX_NOTE_BYTES,
    NOTE_TYPE_COSIGNATURE_V1,
    NOTE_TYPE_ED25519,
    NOTE_TYPE_MLDSA44,
    Checkpoint,
    SignedCheckpoint,
    SignedNote,
    TlogError,
    Vkey,
    cosigned_message,
    note_key_id,
    parse_checkpoint,
    parse_signed_note,
    parse_vkey,
    verify_checkpoint,
)
from .reasons import MLDSAUnavailableError, Reason

#: How far ahead of the verifier's clock a cosignature may be dated (the TypeScript verifier's allowance).
COSIGNATURE_CLOCK_ALLOWANCE_SECONDS = 600
POLICY_LIMITS = {"logs": 32, "witnesses": 32, "groups": 32, "bytes": 256 * 1024}
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
PROOF_FILE_NAME = "model.sig.tlog-proof"
_SIGNATURE_LENGTH = {NOTE_TYPE_COSIGNATURE_V1: 64, NOTE_TYPE_MLDSA44: 2420}
_NONE = "none"


_MLDSA_MODULE = "cryptography.hazmat.primitives.asymmetric.mldsa"


def mldsa_available() -> bool:
    """Whether the installed pyca/cryptography verifies ML-DSA (47 or later)."""
    try:
        importlib.import_module(_MLDSA_MODULE)
    except ImportError:
        return False
    return True


def _mldsa44_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    # Imported by name: the module exists only from cryptography 47, and the type stubs of older
    # versions do not know it.
    try:
        mldsa = importlib.import_module(_MLDSA_MODULE)
    except ImportError:
        import cryptography

        raise MLDSAUnavailableError(
            f"an ML-DSA-44 witness cosignature must be checked and pyca/cryptography {cryptography.__version__} cannot: it needs cryptography>=47 (pip install 'modelsign-verify[mldsa]')"
        ) from None
    from cryptography.exceptions import InvalidSignature

    try:
        mldsa.MLDSA44PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


@dataclass(frozen=True)
class WitnessKey:
    name: str
    type: int
    public_key: bytes
    key_id: int


def witness_key_of(vkey: Vkey) -> WitnessKey:
    if vkey.type == NOTE_TYPE_MLDSA44:
        return WitnessKey(vkey.name, NOTE_TYPE_MLDSA44, vkey.public_key, vkey.key_id)
    if vkey.type not in (NOTE_TYPE_ED25519, NOTE_TYPE_COSIGNATURE_V1):
        raise TlogError("vkey_malformed", f"vkey {vkey.name}: type 0x0{vkey.type} is not a cosignature key")
    return WitnessKey(vkey.name, NOTE_TYPE_COSIGNATURE_V1, vkey.public_key, note_key_id(vkey.name, NOTE_TYPE_COSIGNATURE_V1, vkey.public_key))


def _u8_prefixed(text: str) -> bytes:
    data = text.encode("utf-8")
    if not 1 <= len(data) <= 255:
        raise TlogError("cosignature_invalid", f"{text[:40]!r} must be 1 to 255 bytes in a subtree/v1 message")
    return bytes([len(data)]) + data


def subtree_message(cosigner: str, timestamp: int, cp: Checkpoint) -> bytes:
    return b"subtree/v1\n\x00" + _u8_prefixed(cosigner) + struct.pack(">Q", timestamp) + _u8_prefixed(cp.origin) + struct.pack(">QQ", 0, cp.size) + cp.root_hash


def verify_cosignature(key: WitnessKey, signature: bytes, cp: Checkpoint, checkpoint_text: str, now_seconds: int) -> int:
    """Checks one cosignature (the bytes after the key ID) and returns its timestamp."""
    length = 8 + _SIGNATURE_LENGTH[key.type]
    if len(signature) != length:
        raise TlogError("cosignature_invalid", f"the cosignature of {key.name} is {len(signature)} bytes, not {length}")
    (timestamp,) = struct.unpack(">Q", signature[:8])
    if timestamp > 2**53 - 1:
        raise TlogError("cosignature_invalid", f"the cosignature of {key.name} has an out-of-range timestamp")
    raw = signature[8:]
    if key.type == NOTE_TYPE_MLDSA44:
        ok = _mldsa44_verify(key.public_key, raw, subtree_message(key.name, timestamp, cp))
    else:
        ok = verify_signature(PublicKey(ED25519, key.public_key), raw, cosigned_message(timestamp, checkpoint_text))
    if not ok:
        raise TlogError("cosignature_invalid", f"the cosignature of {key.name} does not verify")
    if timestamp > now_seconds + COSIGNATURE_CLOCK_ALLOWANCE_SECONDS:
        raise TlogError("cosignature_invalid", f"the cosignature of {key.name} is dated {timestamp}, more than 10 minutes ahead of this verifier's clock")
    return int(timestamp)


@dataclass
class PolicyWitness:
    name: str
    key: WitnessKey
    url: Optional[str] = None


@dataclass
class PolicyGroup:
    name: str
    threshold: int
    members: List[str]


@dataclass
class WitnessPolicy:
    logs: List[Vkey] = field(default_factory=list)
    witnesses: List[PolicyWitness] = field(default_factory=list)
    groups: List[PolicyGroup] = field(default_factory=list)
    quorum: str = ""


def _same_key(a_type: int, a_key: bytes, b_type: int, b_key: bytes) -> bool:
    def family(t: int) -> str:
        return "ml-dsa-44" if t == NOTE_TYPE_MLDSA44 else "ed25519"

    return family(a_type) == family(b_type) and a_key == b_key


def parse_witness_policy(text: str) -> WitnessPolicy:
    """A C2SP tlog-policy, parsed as the spec and transparency-dev/formats say, with the spec's
    recommended limits as hard limits (and a 0x01 witness vkey accepted, as the TypeScript parser does)."""
    if not isinstance(text, str) or utf16_length(text) > POLICY_LIMITS["bytes"]:
        raise TlogError("policy_malformed", f"a witness policy is text of at most {POLICY_LIMITS['bytes']} bytes")
    bad = re.search("[\x00-\x08\x0b-\x1f\x7f]", text)
    if bad:
        raise TlogError("policy_malformed", f"the witness policy holds the control character 0x{ord(bad.group(0)):02x} at offset {bad.start()} (only tab and newline are allowed)")
    policy = WitnessPolicy()
    defined: set[str] = set()
    member: set[str] = set()
    quorum: Optional[str] = None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()

    def refuse(n: int, message: str) -> TlogError:
        return TlogError("policy_malformed", f"witness policy line {n}: {message}")

    def vkey_at(n: int, value: str) -> Vkey:
        try:
            return parse_vkey(value)
        except TlogError as err:
            raise refuse(n, str(err)) from None

    for i, raw in enumerate(lines):
        n = i + 1
        fields = [f for f in re.split("[ \t]+", raw) if f != ""]
        if not fields or fields[0].startswith("#"):
            continue
        keyword, args = fields[0], fields[1:]
        if keyword == "log":
            if not 1 <= len(args) <= 2:
                raise refuse(n, 'a log line is "log <vkey> [<url>]"')
            vkey = vkey_at(n, args[0])
            if vkey.type != NOTE_TYPE_ED25519:
                raise refuse(n, f"log {vkey.name}: only Ed25519 (0x01) log keys are supported")
            if any(_same_key(l.type, l.public_key, vkey.type, vkey.public_key) for l in policy.logs):
                raise refuse(n, f"log {vkey.name} repeats the key of an earlier log line")
            if len(policy.logs) == POLICY_LIMITS["logs"]:
                raise refuse(n, f"more than {POLICY_LIMITS['logs']} logs")
            policy.logs.append(vkey)
        elif keyword == "witness":
            if not 2 <= len(args) <= 3:
                raise refuse(n, 'a witness line is "witness <name> <vkey> [<url>]"')
            name = args[0]
            if name == _NONE:
                raise refuse(n, '"none" is reserved')
            if name in defined:
                raise refuse(n, f"the name {name!r} is already defined")
            try:
                key = witness_key_of(vkey_at(n, args[1]))
            except TlogError as err:
                if err.code == "policy_malformed":
                    raise
                raise refuse(n, str(err)) from None
            if any(_same_key(w.key.type, w.key.public_key, key.type, key.public_key) for w in policy.witnesses):
                raise refuse(n, f"witness {name} repeats the key of an earlier witness")
            if len(policy.witnesses) == POLICY_LIMITS["witnesses"]:
                raise refuse(n, f"more than {POLICY_LIMITS['witnesses']} witnesses")
            defined.add(name)
            policy.witnesses.append(PolicyWitness(name, key, args[2] if len(args) > 2 else None))
        elif keyword == "group":
            if len(args) < 3:
                raise refuse(n, 'a group line is "group <name> all|any|<k> <member>..." with at least one member')
            name, threshold, members = args[0], args[1], args[2:]
            if name == _NONE:
                raise refuse(n, '"none" is reserved')
            if name in defined:
                raise refuse(n, f"the name {name!r} is already defined")
            if threshold == "any":
                k = 1
            elif threshold == "all":
                k = len(members)
            elif re.fullmatch(r"0|[1-9][0-9]{0,8}", threshold):
                k = int(threshold)
            else:
                k = 0
            if not 1 <= k <= len(members):
                raise refuse(n, f"group {name}: the threshold {threshold!r} is not all, any or a decimal k with 1 <= k <= {len(members)}")
            for m in members:
                if m not in defined:
                    raise refuse(n, f"group {name}: {m!r} is not defined on an earlier line")
                if m in member:
                    raise refuse(n, f"group {name}: {m!r} is already a member of a group")
                member.add(m)
            if len(policy.groups) == POLICY_LIMITS["groups"]:
                raise refuse(n, f"more than {POLICY_LIMITS['groups']} groups")
            defined.add(name)
            policy.groups.append(PolicyGroup(name, k, members))
        elif keyword == "quorum":
            if len(args) != 1:
                raise refuse(n, 'a quorum line is "quorum <name>"')
            if quorum is not None:
                raise refuse(n, "a policy has exactly one quorum line")
            if args[0] != _NONE and args[0] not in defined:
                raise refuse(n, f"the quorum {args[0]!r} is not defined on an earlier line")
            quorum = args[0]
        else:
            raise refuse(n, f"unknown keyword {keyword[:40]!r}")
    if quorum is None:
        raise TlogError("policy_malformed", "the witness policy has no quorum line")
    policy.quorum = quorum
    return policy


@dataclass
class Witnessing:
    met: bool
    cosigned: Dict[str, int]


def evaluate_quorum(policy: WitnessPolicy, note: SignedNote, cp: Checkpoint, now_seconds: int) -> Witnessing:
    """The quorum on a checkpoint's note. A bad line of a witness the policy names raises (a known
    key's bad signature is an error, even if the quorum could do without it); unknown lines are ignored."""
    cosigned: Dict[str, int] = {}
    for w in policy.witnesses:
        timestamp: Optional[int] = None
        for s in note.signatures:
            if s.name != w.key.name or s.key_id != w.key.key_id:
                continue
            timestamp = verify_cosignature(w.key, s.signature, cp, note.text, now_seconds)
        if timestamp is not None:
            cosigned[w.name] = timestamp
    groups = {g.name: g for g in policy.groups}

    def satisfied(name: str) -> bool:
        g = groups.get(name)
        if g is None:
            return name in cosigned
        return sum(1 for m in g.members if satisfied(m)) >= g.threshold

    return Witnessing(policy.quorum == _NONE or satisfied(policy.quorum), cosigned)


@dataclass(frozen=True)
class TlogProof:
    index: int
    proof: List[bytes]
    note: str


def parse_tlog_proof(text: str) -> TlogProof:
    def refuse(message: str) -> TlogError:
        return TlogError("tlog_proof_malformed", message)

    if not isinstance(text, str) or utf16_length(text) > MAX_NOTE_BYTES + 8 * 1024:
        raise refuse("a tlog-proof is text of at most 264 KiB")
    blank = text.find("\n\n")
    if blank < 0:
        raise refuse("a tlog-proof needs its header, index and proof lines, a blank line, then the checkpoint")
    lines = text[:blank].split("\n")
    note = text[blank + 2 :]
    if lines.pop(0) != TLOG_PROOF_HEADER:
        raise refuse(f"a tlog-proof starts with the line {TLOG_PROOF_HEADER}")
    if lines and lines[0].startswith("extra "):
        if from_base64(lines.pop(0)[6:]) is None:
            raise refuse("the extra line is not base64")
    index_line = lines.pop(0) if lines else None
    index = parse_decimal(index_line[6:]) if index_line is not None and index_line.startswith("index ") else None
    if index is None:
        raise refuse('the index line is not "index N" with N a decimal without leading zeroes')
    if len(lines) > 63:
        raise refuse(f"{len(lines)} proof hashes; a proof in a tree of fewer than 2^63 entries has at most 63")
    proof = []
    for i, line in enumerate(lines):
        h = from_base64(line)
        if h is None or len(h) != HASH_SIZE:
            raise refuse(f"proof line {i + 1} is not base64 of {HASH_SIZE} bytes")
        proof.append(h)
    return TlogProof(index, proof, note)


@dataclass
class WitnessRequirement:
    """The user's own witness policy, a tlog-proof beside the bundle (text), and the clock (POSIX seconds)."""

    policy: WitnessPolicy
    proof: Optional[str]
    now: int


def _policy_problem(policy: WitnessPolicy, log_keys: Sequence[TrustedKey], signer: TrustedKey, origin: str) -> List[Reason]:
    for w in policy.witnesses:
        if w.key.type == NOTE_TYPE_MLDSA44:
            continue
        if any(k.algorithm == ED25519 and k.public_key == w.key.public_key for k in log_keys) or any(l.public_key == w.key.public_key for l in policy.logs):
            return [Reason("witness_policy_invalid", f"witness {w.name}'s key is a log key: the log's own timestamp line would count as a witness")]
    if policy.logs and not any(l.name == origin and l.public_key == signer.public_key for l in policy.logs):
        return [Reason("witness_policy_invalid", f"the witness policy's log lines do not list log {origin} with the key {signer.kid} that signed the checkpoint")]
    return []


def _quorum_of(req: WitnessRequirement, note: str) -> Witnessing:
    parsed = parse_signed_note(note)
    return evaluate_quorum(req.policy, parsed, parse_checkpoint(parsed.text), req.now)


def _verify_proof(text: str, index: int, leaf_hash: bytes, own: SignedCheckpoint, log_keys: Sequence[TrustedKey]) -> SignedCheckpoint:
    proof = parse_tlog_proof(text)
    if proof.index != index:
        raise TlogError("proof_invalid", f"it is for index {proof.index}, the bundle's entry is at {index}")
    origin = parse_checkpoint(parse_signed_note(proof.note).text).origin
    if origin != own.origin:
        raise TlogError("proof_invalid", f"its checkpoint is of log {origin[:80]!r}, the bundle's of {own.origin!r}")
    checkpoint: Optional[SignedCheckpoint] = None
    for key in log_keys:
        if key.algorithm != ED25519 or key.status not in ("active", "retired"):
            continue
        try:
            checkpoint = verify_checkpoint(proof.note, key.key)
            break
        except TlogError as err:
            if err.code != "note_unverified":
                raise
    if checkpoint is None:
        raise TlogError("proof_invalid", "its checkpoint is not signed by a trusted log key")
    if checkpoint.size < own.size:
        raise TlogError("proof_invalid", f"its tree (size {checkpoint.size}) is smaller than the bundle's (size {own.size})")
    if checkpoint.size == own.size and not hmac.compare_digest(checkpoint.root_hash, own.root_hash):
        raise TlogError("proof_invalid", f"its checkpoint has the bundle's tree size {checkpoint.size} with another root: the log showed two trees")
    try:
        verify_inclusion(index, checkpoint.size, leaf_hash, proof.proof, checkpoint.root_hash)
    except ProofError as err:
        raise TlogError("proof_invalid", f"its inclusion proof does not lead from this bundle's entry to the checkpoint's root ({err})") from None
    return checkpoint


def check_witnessed(req: WitnessRequirement, index: int, leaf_hash: bytes, checkpoint: SignedCheckpoint, log_key: TrustedKey, trusted_log_keys: Sequence[TrustedKey]) -> List[Reason]:
    """Whether either the bundle's checkpoint or the tlog-proof's meets the policy's quorum."""
    log_keys = [k for k in trusted_log_keys if k.purpose == "log"]
    problem = _policy_problem(req.policy, log_keys, log_key, checkpoint.origin)
    if problem:
        return problem
    try:
        own = _quorum_of(req, checkpoint.note)
    except TlogError as err:
        return [Reason("witness_signature_invalid", f"the bundle's checkpoint: {err}")]
    if req.proof is None:
        if own.met:
            return []
        return [Reason("witness_quorum_not_met", f"the bundle's checkpoint (tree size {checkpoint.size}) does not meet the witness policy (quorum {req.policy.quorum}); give its .tlog-proof file (model.sig.tlog-proof beside model.sig, FILE.sig.tlog-proof beside FILE.sig, or --proof; modelsign proof fetch BUNDLE gets it from a witnessed service)")]
    try:
        proven = _verify_proof(req.proof, index, leaf_hash, checkpoint, log_keys)
    except TlogError as err:
        return [Reason("witness_proof_invalid", f"the tlog-proof: {err}")]
    try:
        from_proof = _quorum_of(req, proven.note)
    except TlogError as err:
        return [Reason("witness_signature_invalid", f"the tlog-proof's checkpoint: {err}")]
    if own.met or from_proof.met:
        return []
    return [Reason("witness_quorum_not_met", f"neither the bundle's checkpoint (tree size {checkpoint.size}) nor the tlog-proof's (tree size {proven.size}) meets the witness policy (quorum {req.policy.quorum})")]
