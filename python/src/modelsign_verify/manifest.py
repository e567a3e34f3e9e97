"""Release manifests: the rules on resource names (the same as src/core/manifest.ts and
unicode.ts), checked before any file is opened: a signed name like ``../../x`` must never make a
verifier read outside the model, and a name holding invisible characters displays as another."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Iterable, Optional, Sequence

from .encoding import has_lone_surrogate

MAX_PATH_BYTES = 4096
MAX_SEGMENT_BYTES = 255

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, 15.1), beyond the Cf, Zl and
# Zp categories Python's unicodedata gives: characters fonts draw as nothing (U+3164 HANGUL FILLER).
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
    # Format characters Unicode 15 added (Python 3.11's unicodedata is Unicode 14; Node's is 15).
    (0x13439, 0x1343F),
)
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f]")


def is_invisible(c: str) -> bool:
    cp = ord(c)
    if 0xD800 <= cp <= 0xDFFF:
        return False
    return unicodedata.category(c) in ("Cf", "Zl", "Zp") or any(lo <= cp <= hi for lo, hi in _DEFAULT_IGNORABLE)


def code_point_label(c: str) -> str:
    return f"U+{ord(c):04X}"


def invisible_character(text: str) -> Optional[str]:
    """The label of the first invisible character of ``text``, or None."""
    for c in text:
        if is_invisible(c):
            return code_point_label(c)
    return None


def escape_name(text: str) -> str:
    """``text`` quoted, with invisible, control and lone-surrogate characters written as \\u{XXXX}."""
    out = []
    for c in text:
        cp = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif _unprintable(c):
            out.append(f"\\u{{{cp:X}}}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _unprintable(c: str) -> bool:
    cp = ord(c)
    return is_invisible(c) or cp < 0x20 or 0x7F <= cp <= 0x9F or 0xD800 <= cp <= 0xDFFF


def printable_name(text: str) -> str:
    """``text`` as it is when it has nothing to escape (the common case), else escape_name(text)."""
    return escape_name(text) if any(_unprintable(c) for c in text) else text


def path_problem(path: object) -> Optional[str]:
    """Why ``path`` is not a safe manifest path, or None when it is one."""
    if not isinstance(path, str):
        return "must be a string"
    if path == "":
        return "must not be empty"
    if has_lone_surrogate(path):
        return "must be valid Unicode (no lone surrogates)"
    if _CONTROL.search(path):
        return "must not contain NUL or control characters"
    hidden = invisible_character(path)
    if hidden:
        return f"must not contain invisible or bidirectional format characters ({hidden})"
    if unicodedata.normalize("NFC", path) != path:
        return "must be in Unicode normalization form C (NFC)"
    if path.startswith("/"):
        return "must be relative (no leading /)"
    if "\\" in path:
        return "must use / as the only separator (no backslash)"
    if re.match(r"[A-Za-z]:", path):
        return "must not start with a drive letter"
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        return f"must be at most {MAX_PATH_BYTES} bytes"
    for segment in path.split("/"):
        if segment == "":
            return "must not have empty segments (// or a trailing /)"
        if segment == ".":
            return "must not have . segments"
        if segment == "..":
            return "must not have .. segments"
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            return f"segments must be at most {MAX_SEGMENT_BYTES} bytes"
    return None


def is_ignored_path(path: str, ignore_paths: Iterable[str]) -> bool:
    """Whether ``path`` is one of ``ignore_paths`` or inside one of them (the OMS ignore rule)."""
    return any(path == p or path.startswith(p + "/") for p in ignore_paths)


def code_point_key(text: str) -> bytes:
    """Sort key by Unicode code point (UTF-8 byte order), the order of a manifest's resources."""
    return text.encode("utf-8", "surrogatepass")


def root_digest(digests: Sequence[str]) -> str:
    """SHA-256 over the concatenated file digests, in resource order: the subject's digest."""
    return hashlib.sha256(b"".join(bytes.fromhex(d) for d in digests)).hexdigest()
