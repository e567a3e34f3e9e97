"""C2SP signed notes, checkpoints and vkeys, and the log's own checkpoint signatures (the rules of
src/core/tlog: signed-note.ts, checkpoint.ts, log-note.ts, vkey.ts)."""
from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from typing import List, Optional

from .crypto import ED25519, PublicKey, verify_signature
from .encoding import JS_SPACE, from_base64, has_lone_surrogate, parse_decimal

MAX_NOTE_SIGNATURES = 100
MAX_NOTE_BYTES = 256 * 1024
HASH_SIZE = 32
NOTE_TYPE_ED25519 = 0x01
NOTE_TYPE_COSIGNATURE_V1 = 0x04
NOTE_TYPE_MLDSA44 = 0x06
_KEY_LENGTH = {NOTE_TYPE_ED25519: 32, NOTE_TYPE_COSIGNATURE_V1: 32, NOTE_TYPE_MLDSA44: 1312}

_SIGNATURE_LINE = re.compile("\u2014 ([^" + JS_SPACE + "]+) ([A-Za-z0-9+/=]+)")
_NAME_FORBIDDEN = re.compile("[" + JS_SPACE + "+\x00-\x1f]")
_NOTE_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


class TlogError(Exception):
    """A note, checkpoint, vkey, policy, cosignature or proof that does not check out; ``code``
    as in src/core/tlog/tlog-error.ts."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: int
    signature: bytes


@dataclass(frozen=True)
class SignedNote:
    text: str
    signatures: List[NoteSignature]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes


@dataclass(frozen=True)
class SignedCheckpoint(Checkpoint):
    note: str
    #: The log's timestamp cosignature (POSIX seconds), or None.
    timestamp: Optional[int]


def is_key_name(name: str) -> bool:
    return len(name) > 0 and not _NAME_FORBIDDEN.search(name)


def note_key_id(name: str, sig_type: int, public_key: bytes) -> int:
    h = hashlib.sha256(name.encode("utf-8") + bytes([0x0A, sig_type]) + public_key).digest()
    return int.from_bytes(h[:4], "big")


def parse_signed_note(note: object) -> SignedNote:
    if not isinstance(note, str) or has_lone_surrogate(note) or len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise TlogError("note_malformed", f"a note must be a string of at most {MAX_NOTE_BYTES} bytes of valid UTF-8")
    if _NOTE_CONTROL.search(note):
        raise TlogError("note_malformed", "a note must not contain control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise TlogError("note_malformed", "a note needs text, a blank line and signature lines, each ending in a newline")
    text = note[: split + 1]
    lines = note[split + 2 : -1].split("\n")
    if len(lines) > MAX_NOTE_SIGNATURES:
        raise TlogError("note_malformed", f"more than {MAX_NOTE_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        m = _SIGNATURE_LINE.fullmatch(line)
        raw = from_base64(m.group(2)) if m else None
        if m is None or raw is None or len(raw) < 5 or not is_key_name(m.group(1)):
            raise TlogError("note_malformed", f"bad signature line {line[:120]!r}")
        signatures.append(NoteSignature(m.group(1), int.from_bytes(raw[:4], "big"), raw[4:]))
    return SignedNote(text, signatures)


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise TlogError("checkpoint_malformed", "a checkpoint is at least three lines, each ending in a newline")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if origin == "":
        raise TlogError("checkpoint_malformed", "the checkpoint origin is empty")
    size = parse_decimal(size_text)
    if size is None:
        raise TlogError("checkpoint_malformed", f"the tree size {size_text[:40]!r} is not a decimal number without leading zeroes")
    root = from_base64(root_text)
    if root is None or len(root) != HASH_SIZE:
        raise TlogError("checkpoint_malformed", "the root hash is not base64 of 32 bytes")
    if any(line == "" for line in lines[3:-1]):
        raise TlogError("checkpoint_malformed", "extension lines must not be empty")
    return Checkpoint(origin, size, root)


def cosigned_message(timestamp: int, checkpoint_text: str) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode("utf-8")


def verify_checkpoint(note: str, key: PublicKey) -> SignedCheckpoint:
    """Checks a checkpoint note against one log key: its signed-note signature (0x01) must be there
    and verify; its timestamp cosignature (0x04), when there, must verify and dates it."""
    parsed = parse_signed_note(note)
    cp = parse_checkpoint(parsed.text)
    if key.algorithm != ED25519:
        raise TlogError("note_malformed", f"C2SP notes have no signature type for {key.algorithm} keys")
    note_id = note_key_id(cp.origin, NOTE_TYPE_ED25519, key.public_key)
    cosig_id = note_key_id(cp.origin, NOTE_TYPE_COSIGNATURE_V1, key.public_key)
    text = parsed.text.encode("utf-8")
    signed = False
    timestamp: Optional[int] = None
    for s in parsed.signatures:
        if s.name != cp.origin:
            continue
        if s.key_id == note_id:
            if not verify_signature(key, s.signature, text):
                raise TlogError("note_unverified", "the checkpoint signature does not verify with the log key")
            signed = True
        elif s.key_id == cosig_id:
            if len(s.signature) != 8 + 64:
                raise TlogError("note_unverified", "the timestamp cosignature is not 72 bytes")
            (ts,) = struct.unpack(">Q", s.signature[:8])
            if ts > 2**53 - 1:
                raise TlogError("note_unverified", "the cosignature timestamp is out of range")
            if not verify_signature(key, s.signature[8:], cosigned_message(ts, parsed.text)):
                raise TlogError("note_unverified", "the timestamp cosignature does not verify with the log key")
            timestamp = ts
    if not signed:
        raise TlogError("note_unverified", f"the checkpoint carries no signature by this log key (name {cp.origin})")
    return SignedCheckpoint(cp.origin, cp.size, cp.root_hash, note, timestamp)


@dataclass(frozen=True)
class Vkey:
    name: str
    type: int
    public_key: bytes
    key_id: int


def parse_vkey(vkey: str) -> Vkey:
    # The base64 key may hold '+' itself: the name and key ID end at the first two.
    first = vkey.find("+")
    second = -1 if first < 0 else vkey.find("+", first + 1)
    parts = [] if second < 0 else [vkey[:first], vkey[first + 1 : second], vkey[second + 1 :]]
    data = from_base64(parts[2]) if len(parts) == 3 else None
    if len(parts) != 3 or not is_key_name(parts[0]) or not re.fullmatch(r"[0-9a-fA-F]{8}", parts[1]) or data is None or len(data) < 2:
        raise TlogError("vkey_malformed", f"{vkey[:80]!r} is not a vkey (name+keyid+base64 key)")
    name, hex_id = parts[0], parts[1]
    sig_type, public_key = data[0], data[1:]
    expected = _KEY_LENGTH.get(sig_type)
    if expected is None:
        raise TlogError("vkey_malformed", f"vkey {name}: signature type 0x{sig_type:02x} is not one this verifier knows (0x01, 0x04, 0x06)")
    if len(public_key) != expected:
        raise TlogError("vkey_malformed", f"vkey {name}: a type 0x0{sig_type} key is {expected} bytes, not {len(public_key)}")
    kid = int(hex_id, 16)
    if kid != note_key_id(name, sig_type, public_key):
        raise TlogError("vkey_malformed", f"vkey {name}: the key ID {hex_id} is not the one its key hashes to")
    return Vkey(name, sig_type, public_key, kid)


def log_id_of(origin: str, key: PublicKey) -> bytes:
    """The log's C2SP key ID (all 32 bytes): a Rekor v2 entry's logId.keyId."""
    return hashlib.sha256(origin.encode("utf-8") + bytes([0x0A, NOTE_TYPE_ED25519]) + key.public_key).digest()
