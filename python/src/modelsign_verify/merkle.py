"""RFC 6962 / 9162 hashing and inclusion proofs (src/core/tlog/hash.ts, verify-proof.ts)."""
from __future__ import annotations

import hashlib
import hmac
from typing import Sequence

from .note import HASH_SIZE


class ProofError(Exception):
    pass


def hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if not (0 <= index < size):
        raise ProofError(f"index {index} is not inside a tree of size {size}")
    for h in [*proof, leaf]:
        if len(h) != HASH_SIZE:
            raise ProofError(f"a hash is {len(h)} bytes, not {HASH_SIZE}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn % 2 == 1 or fn == sn:
            r = hash_children(p, r)
            while fn % 2 == 0 and fn != 0:
                fn //= 2
                sn //= 2
        else:
            r = hash_children(r, p)
        fn //= 2
        sn //= 2
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    if len(root) != HASH_SIZE:
        raise ProofError(f"a hash is {len(root)} bytes, not {HASH_SIZE}")
    if not hmac.compare_digest(root_from_inclusion_proof(index, size, leaf, proof), root):
        raise ProofError("the proof does not lead to the root hash")
