"""Strict encodings at the edges, the same rules as the TypeScript verifier (src/core/bytes.ts,
guards.ts): one byte string has one text form, so a bundle cannot be altered without changing it.

Every pattern is matched with ``fullmatch``: Python's ``$`` also matches before a final newline,
which JavaScript's does not, and a trailing newline must not slip through here.
"""
from __future__ import annotations

import base64
import json
import re
from typing import Any, Optional

_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,15}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
MAX_SAFE_INTEGER = 2**53 - 1

# JavaScript's \s (ECMAScript WhiteSpace and LineTerminator): what the TypeScript parsers of
# notes and policies split on. Python's \s differs (it has \x1c-\x1f and \x85, lacks \ufeff).
JS_SPACE = "\t\n\x0b\x0c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def from_base64(text: object) -> Optional[bytes]:
    """Standard base64 with padding, canonical (zero padding bits); None for anything else."""
    if not isinstance(text, str) or not _BASE64.fullmatch(text):
        return None
    data = base64.b64decode(text)
    return data if base64.b64encode(data).decode("ascii") == text else None


def to_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def from_base64url(text: object) -> Optional[bytes]:
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    padded = text.replace("-", "+").replace("_", "/") + "=" * ((4 - len(text) % 4) % 4)
    return from_base64(padded)


def parse_decimal(value: object) -> Optional[int]:
    """A decimal string without sign or leading zeroes, up to 2**53 - 1 (Sigstore's uint64 fields)."""
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        return None
    n = int(value)
    return n if n <= MAX_SAFE_INTEGER else None


def is_sha256_hex(value: object) -> bool:
    return isinstance(value, str) and _SHA256_HEX.fullmatch(value) is not None


def is_object(value: object) -> bool:
    return isinstance(value, dict)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> Any:
    """JSON as JavaScript's JSON.parse reads it: NaN and Infinity are not JSON."""
    return json.loads(text, parse_constant=_no_constant)


def utf8_text(data: bytes) -> str:
    """Strict UTF-8 with one leading BOM dropped, as TextDecoder('utf-8', {fatal: true}) decodes."""
    return data.decode("utf-8-sig")


def utf16_length(text: str) -> int:
    """The string's length as JavaScript counts it (UTF-16 code units)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def has_lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)
