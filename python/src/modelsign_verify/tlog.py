"""A bundle's transparency-log entry (src/core/tlog/tlog-entry.ts and entries/): the leaf is
rebuilt from the bundle and the trusted key it names (canonicalizedBody must merely equal it), the
log key is found by the entry's log ID, then the checkpoint's signature, that the proof is for the
checkpoint's tree, and the inclusion proof, against the checkpoint's size and root."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Iterable, List, Optional, Tuple

from .crypto import ED25519, KEY_DETAILS, PublicKey, spki_der
from .dsse import pre_auth_encoding
from .encoding import from_base64, is_sha256_hex, parse_decimal, to_base64
from .keys import KeySet, TrustedKey
from .merkle import ProofError, hash_leaf, verify_inclusion
from .note import SignedCheckpoint, TlogError, log_id_of, parse_signed_note, verify_checkpoint
from .reasons import Reason

HASHEDREKORD = ("hashedrekord", "0.0.2")
MODELSIGN_RELEASE = ("modelsign-release", "1")
KINDS = (HASHEDREKORD, MODELSIGN_RELEASE)


@dataclass(frozen=True)
class EntryFacts:
    subject: str
    root_digest: str
    payload_type: str
    payload: bytes
    kid: str
    key: PublicKey
    signature: bytes


@dataclass(frozen=True)
class VerifiedEntry:
    log_index: int
    tree_size: int
    integrated_time: Optional[int]
    leaf_hash: bytes
    checkpoint: SignedCheckpoint
    log_key: TrustedKey


def hashedrekord_body(digest: bytes, signature: bytes, key_details: str, spki: bytes) -> bytes:
    """Rekor v2's canonical hashedrekord 0.0.2 body (RFC 8785: every value is an ASCII string, so
    keys written in sorted order and no spaces are already canonical)."""
    body = {
        "apiVersion": "0.0.2",
        "kind": "hashedrekord",
        "spec": {
            "hashedRekordV002": {
                "data": {"algorithm": "SHA2_256", "digest": to_base64(digest)},
                "signature": {"content": to_base64(signature), "verifier": {"keyDetails": key_details, "publicKey": {"rawBytes": to_base64(spki)}}},
            }
        },
    }
    return json.dumps(body, separators=(",", ":")).encode("ascii")


def leaf_data(kind: Tuple[str, str], f: EntryFacts) -> bytes:
    """The leaf a release signature is logged as; ValueError when the key cannot make one."""
    if kind == HASHEDREKORD:
        digest = hashlib.sha256(pre_auth_encoding(f.payload_type, f.payload)).digest()
        return hashedrekord_body(digest, f.signature, KEY_DETAILS[f.key.algorithm], spki_der(f.key))
    return (
        f"modelsign/tlog-leaf/v1\nsubject {f.subject}\nroot {f.root_digest}\n"
        f"payload {hashlib.sha256(f.payload).hexdigest()}\nkid {f.kid}\nsig {base64.b64encode(f.signature).decode()}\n"
    ).encode("utf-8")


def _kind_of(kind_version: object) -> Optional[Tuple[str, str]]:
    if not isinstance(kind_version, dict) or not isinstance(kind_version.get("kind"), str) or not isinstance(kind_version.get("version"), str):
        return None
    kv = (kind_version["kind"], kind_version["version"])
    return kv if kv in KINDS else None


def find_log_key(log_id: bytes, origin: str, keys: KeySet) -> Optional[TrustedKey]:
    for k in keys.log_keys():
        if k.algorithm == ED25519 and hmac.compare_digest(log_id_of(origin, k.key), log_id):
            return k
    kid = log_id.hex()
    key = keys.resolve(kid) if is_sha256_hex(kid) else None
    return key if key is not None and key.purpose == "log" else None


def _origin_of(note: str) -> Optional[str]:
    try:
        return parse_signed_note(note).text.split("\n", 1)[0]
    except TlogError:
        return None


_ABSENT = object()


def check_tlog_entry(entry: object, facts: EntryFacts, keys: KeySet) -> Tuple[Optional[VerifiedEntry], List[Reason]]:
    def refuse(code: str, message: str) -> Tuple[Optional[VerifiedEntry], List[Reason]]:
        return None, [Reason(code, message)]

    if not isinstance(entry, dict) or not isinstance(entry.get("logId"), dict) or not isinstance(entry.get("inclusionProof"), dict) or not isinstance(entry["inclusionProof"].get("checkpoint"), dict):
        return refuse("tlog_entry_malformed", "a tlog entry needs logId, inclusionProof and inclusionProof.checkpoint")
    kind = _kind_of(entry.get("kindVersion"))
    if kind is None:
        return refuse("tlog_entry_malformed", f"the tlog entry's kindVersion {str(entry.get('kindVersion'))[:80]} is not a kind this verifier knows")
    try:
        leaf = leaf_data(kind, facts)
    except (ValueError, KeyError):
        return refuse("tlog_body_mismatch", f"a {kind[0]} entry cannot be made for this bundle's key")
    proof = entry["inclusionProof"]
    index = parse_decimal(entry.get("logIndex"))
    proof_index = parse_decimal(proof.get("logIndex"))
    tree_size = parse_decimal(proof.get("treeSize"))
    root_hash = from_base64(proof.get("rootHash"))
    raw_hashes = proof.get("hashes")
    hashes = [from_base64(h) for h in raw_hashes] if isinstance(raw_hashes, list) and len(raw_hashes) <= 64 else None
    log_id = from_base64(entry["logId"].get("keyId"))
    envelope = proof["checkpoint"].get("envelope")
    if (
        index is None
        or proof_index != index
        or tree_size is None
        or root_hash is None
        or hashes is None
        or any(h is None for h in hashes)
        or log_id is None
        or len(log_id) != 32
        or not isinstance(envelope, str)
    ):
        return refuse("tlog_entry_malformed", "the tlog entry has a malformed index, tree size, root hash, proof hash, log id or checkpoint")
    body = entry.get("canonicalizedBody", _ABSENT)
    if body is not _ABSENT and body != to_base64(leaf):
        return refuse("tlog_body_mismatch", "the entry's canonicalizedBody is not the leaf data of this bundle")
    origin = _origin_of(envelope)
    if origin is None:
        return refuse("checkpoint_signature_invalid", "the checkpoint is not a signed note")
    key = find_log_key(log_id, origin, keys)
    if key is None:
        return refuse("log_key_unknown", f"the log id {to_base64(log_id)} names no trusted log key (origin {origin[:80]!r})")
    if key.status in ("revoked", "pending"):
        return refuse("log_key_unknown", f"the log key {key.kid} is {key.status}")
    try:
        checkpoint = verify_checkpoint(envelope, key.key)
    except TlogError as err:
        return refuse("checkpoint_signature_invalid", str(err))
    if checkpoint.size != tree_size or not hmac.compare_digest(checkpoint.root_hash, root_hash):
        return refuse("checkpoint_mismatch", f"the proof is for tree size {tree_size}, the checkpoint is for {checkpoint.size} with another root")
    integrated = entry.get("integratedTime", _ABSENT)
    if integrated is not _ABSENT and integrated != "0" and integrated != str(checkpoint.timestamp or 0):
        return refuse("checkpoint_mismatch", "integratedTime differs from the checkpoint's signed time")
    leaf_hash = hash_leaf(leaf)
    try:
        verify_inclusion(index, tree_size, leaf_hash, [h for h in hashes if h is not None], root_hash)
    except ProofError as err:
        return refuse("inclusion_proof_invalid", f"the inclusion proof does not verify: {err}")
    return VerifiedEntry(index, tree_size, checkpoint.timestamp, leaf_hash, checkpoint, key), []


def trusted_log_keys(keys: Iterable[TrustedKey]) -> List[TrustedKey]:
    return [k for k in keys if k.purpose == "log"]
