"""A NumPy ``.npy`` array read as a stream (src/core/scan/npy.ts): the magic and header (kept, at
most 64 KiB), then either numbers (data, not read) or, for an object dtype anywhere in the
header, a pickle, which ``np.load(allow_pickle=True)`` unpickles. For .npy files and .npz members."""
from __future__ import annotations

import re
from typing import Optional, Union

from .pickle_vm import PickleReader, judge_pickle
from .verdict import ContentReport, malformed

NPY_MAGIC = b"\x93NUMPY"
_MAX_HEADER = 65_535
_DESCR = re.compile(r"'descr':\s*(.*?),\s*'fortran_order'", re.S)
_OBJECT = re.compile(r"'\|?O\d*'|[<>|=]O")


class NpyCheck:
    def __init__(self, base: int = 0) -> None:
        self._base = base
        self._header = bytearray()
        self._reader: Optional[PickleReader] = None
        self._report: Optional[ContentReport] = None

    @property
    def wants_more(self) -> bool:
        """Whether more bytes can change the verdict (false once the header says numbers)."""
        return self._report is None and not (self._reader is not None and self._reader.done)

    def push(self, chunk: memoryview) -> None:
        if self._report is not None:
            return
        if self._reader is not None:
            if not self._reader.done:
                self._reader.push(chunk)
            return
        k = 0
        while k < len(chunk):
            want = self._wanted()
            if want > 12 + _MAX_HEADER:
                self._report = malformed("npy", "npy_header", f"the .npy header is longer than {_MAX_HEADER} bytes")
                return
            if len(self._header) >= want:
                break
            take = min(want - len(self._header), len(chunk) - k)
            self._header += chunk[k : k + take]  # a copy: the chunk may be reused
            k += take
        if len(self._header) < 12 or len(self._header) < self._wanted():
            return
        verdict = _npy_header(bytes(self._header))
        if isinstance(verdict, ContentReport):
            self._report = verdict
            return
        self._reader = PickleReader(self._base + len(self._header))
        self._reader.push(chunk[k:])

    def finish(self) -> ContentReport:
        if self._report is not None:
            return self._report
        if self._reader is not None:
            return judge_pickle(self._reader.finish(), "npy")
        return malformed("npy", "npy_header", "the .npy header runs past the end")

    def _wanted(self) -> int:
        h = self._header
        if len(h) < 12:
            return 12
        return 10 + int.from_bytes(h[8:10], "little") if h[6] == 1 else 12 + int.from_bytes(h[8:12], "little")


def _npy_header(data: bytes) -> Union[ContentReport, str]:
    """The verdict on a .npy header, or 'object' when the data that follows is a pickle."""
    major = data[6]
    if major not in (1, 2, 3):
        return malformed("npy", "npy_header", "an unknown .npy version")
    start = 10 if major == 1 else 12
    header = data[start:].decode("utf-8", "replace") if major == 3 else data[start:].decode("latin1")
    m = _DESCR.search(header)
    if m is None:
        return malformed("npy", "npy_header", "the .npy header has no descr")
    # An object dtype anywhere (also inside a structured dtype) means the data is a pickle.
    if not _OBJECT.search(m.group(1)):
        return ContentReport("data-only", "npy", [])
    return "object"
