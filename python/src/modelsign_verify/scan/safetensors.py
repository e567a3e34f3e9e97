"""The safetensors check (src/core/scan/safetensors.ts), as strict as the Rust reference
(safetensors/src/tensor.rs: read_metadata, Metadata::validate) and a little stricter where it
costs nothing. Only the first 8 + N bytes and the file's length are needed."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .strict_json import StrictJson, StrictJsonError, parse_strict_json
from .verdict import ContentReport, malformed

#: Bits per element, by dtype name; versioned with the reference (new dtypes are refused until listed).
SAFETENSORS_DTYPES: Dict[str, int] = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
}
MAX_HEADER_BYTES = 100_000_000
MAX_TENSORS = 100_000
_MAX_INTEGER = (1 << 48) - 1
_FORMAT = "safetensors"
_INDEX_KEY = re.compile(r"0|[1-9][0-9]*")


def _bad(code: str, message: str) -> ContentReport:
    return malformed(_FORMAT, f"safetensors_{code}", message)


def _integer(value: StrictJson) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_INTEGER else None


def _q(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


def _keys_in_js_order(obj: Dict[str, StrictJson]) -> List[str]:
    """The order JavaScript's Object.entries gives (array-index keys first, ascending, then the rest
    as written), so that with several faults both checkers name the same one first."""
    index = [k for k in obj if _INDEX_KEY.fullmatch(k) and int(k) < 2**32 - 1]
    rest = [k for k in obj if not (_INDEX_KEY.fullmatch(k) and int(k) < 2**32 - 1)]
    return sorted(index, key=int) + rest


@dataclass
class _Tensor:
    name: str
    dtype: str
    shape: List[int]
    start: int
    end: int


class SafetensorsCheck:
    """Accumulates the header from a file's chunks; ``finish`` gives the verdict."""

    def __init__(self) -> None:
        self._head = bytearray()
        self._wanted = 8

    def push(self, chunk: memoryview) -> None:
        offset = 0
        while offset < len(chunk) and len(self._head) < self._wanted:
            take = min(len(chunk) - offset, self._wanted - len(self._head))
            self._head += chunk[offset : offset + take]  # a copy: the caller may reuse its buffer
            offset += take
            if self._wanted == 8 and len(self._head) == 8:
                n = int.from_bytes(self._head, "little")
                # Beyond the cap nothing more is kept: finish() refuses it.
                if n <= MAX_HEADER_BYTES:
                    self._wanted = 8 + n

    def finish(self, file_size: int) -> ContentReport:
        return check_safetensors(bytes(self._head), file_size)


def check_safetensors(head: bytes, file_size: int) -> ContentReport:
    """The verdict on a safetensors file given its first bytes (at least 8 + N, when the file has them) and its size."""
    if file_size < 8 or len(head) < 8:
        return _bad("too_small", "the file is shorter than the 8-byte header length")
    n = int.from_bytes(head[:8], "little")
    if n > MAX_HEADER_BYTES:
        return _bad("header_too_large", f"the header length {n} is over the {MAX_HEADER_BYTES}-byte limit")
    data_start = 8 + n
    if data_start > file_size:
        return _bad("header_past_end", f"the header length {n} runs past the end of the {file_size}-byte file")
    if len(head) < data_start:
        return _bad("too_small", "the header was not read in full")
    try:
        text = head[8:data_start].decode("utf-8")
    except UnicodeDecodeError:
        return _bad("header_not_utf8", "the header is not valid UTF-8")
    # Writers pad with spaces to a multiple of 8; nothing else may follow the JSON, nor precede it.
    trimmed = text.rstrip(" ")
    if not trimmed.startswith("{"):
        return _bad("header_not_object", 'the header does not start with "{"')
    try:
        header = parse_strict_json(trimmed)
    except StrictJsonError as err:
        return _bad("duplicate_key" if err.code == "duplicate_key" else "header_not_json", f"the header is not strict JSON: {err}")
    if not isinstance(header, dict):
        return _bad("header_not_object", "the header is not a JSON object")

    tensors: List[_Tensor] = []
    for name in _keys_in_js_order(header):
        info = header[name]
        if name == "__metadata__":
            if not isinstance(info, dict) or any(not isinstance(v, str) for v in info.values()):
                return _bad("metadata_not_strings", "__metadata__ must map names to strings")
            continue
        if name == "" or "\x00" in name:
            return _bad("tensor_name", "a tensor name is empty or holds NUL")
        if len(tensors) >= MAX_TENSORS:
            return _bad("too_many_tensors", f"more than {MAX_TENSORS} tensors")
        if not isinstance(info, dict):
            return _bad("tensor_info", f"tensor {_q(name)} is not {{dtype, shape, data_offsets}}")
        extra = [k for k in _keys_in_js_order(info) if k not in ("dtype", "shape", "data_offsets")]
        if extra:
            return _bad("tensor_info", f"tensor {_q(name)} has unknown fields {', '.join(extra)}")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in SAFETENSORS_DTYPES:
            return _bad("dtype", f"tensor {_q(name)} has dtype {json.dumps(dtype)}, not one this checker knows")
        if not isinstance(shape, list) or len(shape) > 64 or any(_integer(d) is None for d in shape):
            return _bad("shape", f"tensor {_q(name)} has a shape that is not a list of non-negative integers")
        if not isinstance(offsets, list) or len(offsets) != 2 or any(_integer(o) is None for o in offsets):
            return _bad("offsets", f"tensor {_q(name)} has data_offsets that are not two non-negative integers")
        tensors.append(_Tensor(name, dtype, [int(d) for d in shape], int(offsets[0]), int(offsets[1])))  # type: ignore[arg-type]

    # Sorted by offsets, the tensors must tile the data exactly: no overlap, no gap.
    tensors.sort(key=lambda t: (t.start, t.end))
    position = 0
    for t in tensors:
        if t.start != position or t.end < t.start:
            return _bad("offsets_not_contiguous", f"tensor {_q(t.name)} spans [{t.start}, {t.end}) where the data continues at {position} (overlapping, gapped or reversed offsets)")
        elements = 1
        for d in t.shape:
            elements *= d
        bits = elements * SAFETENSORS_DTYPES[t.dtype]
        if bits % 8:
            return _bad("misaligned", f"tensor {_q(t.name)} does not fill whole bytes")
        if t.end - t.start != bits // 8:
            shape_text = "×".join(str(d) for d in t.shape) or "scalar"
            return _bad("size_mismatch", f"tensor {_q(t.name)} holds {t.end - t.start} bytes where {t.dtype} × {shape_text} needs {bits // 8}")
        position = t.end
    if data_start + position != file_size:
        return _bad("trailing_bytes", f"the tensors end at byte {data_start + position} but the file has {file_size} (bytes no tensor accounts for)")
    return ContentReport("data-only", _FORMAT, [])
