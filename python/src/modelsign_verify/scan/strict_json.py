"""A strict JSON reader for headers other programs parse too (src/core/scan/strict-json.ts):
duplicate keys refused at every level, integers kept exact, numbers with a fraction or exponent
kept as floats so a caller can refuse them where it wants integers. ``json.loads`` keeps the last
of two equal keys, so a header could mean one thing here and another to a loader."""
from __future__ import annotations

import json
import re
from typing import Dict, List, Union

StrictJson = Union[None, bool, str, int, float, List["StrictJson"], Dict[str, "StrictJson"]]

MAX_DEPTH = 64
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_PLAIN = re.compile(r'[^"\\\x00-\x1f]+')
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_WS = " \t\n\r"


class StrictJsonError(ValueError):
    def __init__(self, code: str, message: str, offset: int) -> None:
        super().__init__(message)
        self.code = code
        self.offset = offset


def _join_surrogates(s: str) -> str:
    """\\u escapes give UTF-16 code units; a pair is one character, as it is in JavaScript's strings."""
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in s):
        return s
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def parse_strict_json(text: str) -> StrictJson:
    i = 0
    n = len(text)

    def fail(message: str, code: str = "syntax") -> StrictJsonError:
        return StrictJsonError(code, f"{message} at offset {i}", i)

    def ws() -> None:
        nonlocal i
        while i < n and text[i] in _WS:
            i += 1

    def string() -> str:
        nonlocal i
        i += 1
        out: List[str] = []
        while True:
            if i >= n:
                raise fail("unterminated string")
            c = text[i]
            if c == '"':
                i += 1
                return _join_surrogates("".join(out))
            if ord(c) < 0x20:
                raise fail("a control character in a string")
            if c != "\\":
                m = _PLAIN.match(text, i)
                assert m is not None
                out.append(m.group(0))
                i = m.end()
                continue
            e = text[i + 1] if i + 1 < n else ""
            i += 2
            if e == "u":
                hex4 = text[i : i + 4]
                if not _HEX4.fullmatch(hex4):
                    raise fail("a bad \\u escape")
                out.append(chr(int(hex4, 16)))
                i += 4
            else:
                simple = _SIMPLE.get(e)
                if simple is None:
                    raise fail("a bad escape")
                out.append(simple)

    def number() -> Union[int, float]:
        nonlocal i
        m = _NUMBER.match(text[i : i + 400])  # as far as the TypeScript reader looks (and int() has a digit limit)
        if not m:
            raise fail("invalid number")
        i += m.end()
        return int(m.group(0)) if m.group(2) is None and m.group(3) is None else float(m.group(0))

    def literal(word: str, value: StrictJson) -> StrictJson:
        nonlocal i
        if text.startswith(word, i):
            i += len(word)
            return value
        raise fail("invalid literal")

    def value(depth: int) -> StrictJson:
        nonlocal i
        if depth > MAX_DEPTH:
            raise fail(f"nested deeper than {MAX_DEPTH}", "too_deep")
        ws()
        c = text[i] if i < n else ""
        if c == "{":
            i += 1
            obj: Dict[str, StrictJson] = {}
            ws()
            if i < n and text[i] == "}":
                i += 1
                return obj
            while True:
                ws()
                if i >= n or text[i] != '"':
                    raise fail("expected a key")
                at = i
                key = string()
                if key in obj:
                    raise StrictJsonError("duplicate_key", f"the key {json.dumps(key, ensure_ascii=False)} appears twice", at)
                ws()
                if i >= n or text[i] != ":":
                    i += 1
                    raise fail('expected ":"')
                i += 1
                obj[key] = value(depth + 1)
                ws()
                nxt = text[i] if i < n else ""
                i += 1
                if nxt == "}":
                    return obj
                if nxt != ",":
                    raise fail('expected "," or "}"')
        if c == "[":
            i += 1
            arr: List[StrictJson] = []
            ws()
            if i < n and text[i] == "]":
                i += 1
                return arr
            while True:
                arr.append(value(depth + 1))
                ws()
                nxt = text[i] if i < n else ""
                i += 1
                if nxt == "]":
                    return arr
                if nxt != ",":
                    raise fail('expected "," or "]"')
        if c == '"':
            return string()
        if c == "t":
            return literal("true", True)
        if c == "f":
            return literal("false", False)
        if c == "n":
            return literal("null", None)
        return number()

    result = value(0)
    ws()
    if i != n:
        raise fail("text after the JSON value")
    return result
