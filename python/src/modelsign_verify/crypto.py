"""Public keys and signatures: Ed25519 and ECDSA P-256, in every encoding clients meet (SPKI DER
and PEM, JWK, the kid), verified with pyca/cryptography under the TypeScript verifier's rules
(src/core/crypto).

Ed25519 is verified strictly, as @noble/curves does with ``zip215: false``: canonical encodings of
the key and of R, S < L, no small-order key. OpenSSL (behind pyca) checks the cofactorless
equation, noble the cofactored one; for canonical inputs the first implies the second, so with the
checks below this verifier never accepts what the TypeScript one refuses. A signature whose key or R
has a small-order component can satisfy only the cofactored equation: only its key's holder can
make one, and this verifier refuses it (fail-closed; python/README.md, "Differences"). Checking the
cofactored equation here would mean curve arithmetic of our own, which pyca does not expose.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .encoding import from_base64, from_base64url, to_base64

ED25519 = "Ed25519"
ECDSA_P256 = "ECDSA P-256"
ALGORITHMS = (ED25519, ECDSA_P256)

_ED25519_SPKI = bytes.fromhex("302a300506032b6570032100")
_P256_SPKI = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# The canonical encodings of the eight small-order points of edwards25519.
_SMALL_ORDER = frozenset(
    bytes.fromhex(h)
    for h in (
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    )
)

KEY_DETAILS = {ED25519: "PKIX_ED25519", ECDSA_P256: "PKIX_ECDSA_P256_SHA_256"}


@dataclass(frozen=True)
class PublicKey:
    algorithm: str
    #: The algorithm's raw encoding: 32 bytes (RFC 8032) or the 65-byte uncompressed point.
    public_key: bytes


def _is_p256_point(point: bytes) -> bool:
    if len(point) != 65 or point[0] != 0x04:
        return False
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        return True
    except ValueError:
        return False


def _canonical_ed25519_point(encoded: bytes) -> bool:
    """y < p, and no x = 0 written with the sign bit set (RFC 8032's strict decoding, in part)."""
    if len(encoded) != 32:
        return False
    y = int.from_bytes(encoded, "little") & ((1 << 255) - 1)
    if y >= _P:
        return False
    return not (encoded[31] & 0x80 and y in (1, _P - 1))


def spki_der(key: PublicKey) -> bytes:
    if key.algorithm == ED25519:
        if len(key.public_key) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return _ED25519_SPKI + key.public_key
    if key.algorithm == ECDSA_P256:
        if not _is_p256_point(key.public_key):
            raise ValueError("an ECDSA P-256 public key is a 65-byte uncompressed point on the curve")
        return _P256_SPKI + key.public_key
    raise ValueError(f"unknown algorithm {key.algorithm}")


def spki_pem(key: PublicKey) -> str:
    b64 = to_base64(spki_der(key))
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def key_id(key: PublicKey) -> str:
    """The kid: lowercase hex SHA-256 of the SPKI PEM text (OpenSSF model_signing's publicKey.hint)."""
    return hashlib.sha256(spki_pem(key).encode("ascii")).hexdigest()


def parse_spki_der(der: bytes) -> Optional[PublicKey]:
    if len(der) == len(_ED25519_SPKI) + 32 and der.startswith(_ED25519_SPKI):
        return PublicKey(ED25519, der[len(_ED25519_SPKI) :])
    if len(der) == len(_P256_SPKI) + 65 and der.startswith(_P256_SPKI):
        point = der[len(_P256_SPKI) :]
        return PublicKey(ECDSA_P256, point) if _is_p256_point(point) else None
    return None


def parse_spki_pem(pem: str) -> Optional[PublicKey]:
    import re

    m = re.search(r"-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----", pem)
    der = from_base64(re.sub(r"\s+", "", m.group(1))) if m else None
    return parse_spki_der(der) if der is not None else None


def parse_jwk(jwk: object) -> Optional[PublicKey]:
    """The key of a public JWK of a known algorithm; None for anything else (a private JWK too)."""
    if not isinstance(jwk, dict) or "d" in jwk:
        return None
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        raw = from_base64url(jwk.get("x"))
        return PublicKey(ED25519, raw) if raw is not None and len(raw) == 32 else None
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        x, y = from_base64url(jwk.get("x")), from_base64url(jwk.get("y"))
        if x is None or y is None or len(x) != 32 or len(y) != 32:
            return None
        point = b"\x04" + x + y
        return PublicKey(ECDSA_P256, point) if _is_p256_point(point) else None
    return None


def is_well_formed_key(key: PublicKey) -> bool:
    try:
        spki_der(key)
        return True
    except ValueError:
        return False


def signature_problem(algorithm: str, signature: bytes) -> Optional[str]:
    """Why ``signature`` is not well formed for the algorithm, or None."""
    if algorithm == ED25519:
        return None if len(signature) == 64 else f"an Ed25519 signature is 64 bytes, got {len(signature)}"
    if not 8 <= len(signature) <= 72:
        return f"a DER ECDSA P-256 signature is 8 to 72 bytes, got {len(signature)}"
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        return "not a DER ECDSA P-256 signature"
    # Re-encoding catches trailing bytes and non-minimal lengths, which a parser may let through.
    if encode_dss_signature(r, s) != signature:
        return "not a canonical DER ECDSA P-256 signature"
    if not (0 < r < _P256_N and 0 < s < _P256_N):
        return "r or s is out of range"
    return None


def verify_signature(key: PublicKey, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is well formed and verifies over ``message`` (strictly, see above)."""
    if key.algorithm == ED25519:
        pk = key.public_key
        if len(signature) != 64 or len(pk) != 32:
            return False
        if not _canonical_ed25519_point(pk) or pk in _SMALL_ORDER:
            return False
        if not _canonical_ed25519_point(signature[:32]) or int.from_bytes(signature[32:], "little") >= _L:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(pk).verify(signature, message)
            return True
        except (InvalidSignature, ValueError):
            return False
    if key.algorithm == ECDSA_P256:
        if signature_problem(ECDSA_P256, signature) is not None or not _is_p256_point(key.public_key):
            return False
        try:
            pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key.public_key)
            pub.verify(signature, message, ec.ECDSA(hashes.SHA256()))
            return True
        except (InvalidSignature, ValueError):
            return False
    return False
