"""A zip archive checked as hashing streams it (src/core/scan/zip-stream.ts), its central
directory already read from the end of the file (zip_plan.py): every member is found where the
directory says, whatever the local headers claim (torch 2.x writes flag 0x0808 with zero sizes in
every local header), each local header is checked against its directory entry, each member's
first bytes decide what it is (a pickle, a .npy array, or data passed over unread), deflated
members are inflated only as far as that takes, and the bytes read ahead are compared with the
same bytes of the stream: a file that changed between the two reads is refused."""
from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from .npy import NPY_MAGIC, NpyCheck
from .pickle_vm import PickleReader, PickleScan
from .verdict import ContentReport
from .zip_plan import ZipEntry, ZipPlan

_LOCAL = b"PK\x03\x04"
#: Inflated output handed on at a time, so a zip bomb never lands in memory whole.
_INFLATE_STEP = 1 << 20
_PKL_OR_NPY = re.compile(r"\.(pkl|npy)$", re.I)


@dataclass
class MemberResult:
    entry: ZipEntry
    #: The pickle the member holds, with whether bytes follow its STOP.
    pickle: Optional[Tuple[PickleScan, bool]] = None
    #: The verdict on a .npy member (an .npz archive).
    npy: Optional[ContentReport] = None


@dataclass
class ZipStreamResult:
    members: List[MemberResult]
    problems: List[str]
    changed: Optional[str]


class _MemberContent:
    """What a member's bytes are, decided by its first six (and its name)."""

    def __init__(self, name: str, base: int) -> None:
        self._name = name
        self._base = base
        self._head = bytearray()
        self._kind = "sniff"
        self._reader: Optional[PickleReader] = None
        self._npy: Optional[NpyCheck] = None
        self._trailing = False

    @property
    def wants_more(self) -> bool:
        if self._kind == "sniff":
            return True
        if self._kind == "pickle":
            return not self._trailing
        if self._kind == "npy":
            assert self._npy is not None
            return self._npy.wants_more
        return False

    def push(self, data: memoryview) -> None:
        if self._kind == "sniff":
            take = min(len(NPY_MAGIC) - len(self._head), len(data))
            self._head += data[:take]
            if len(self._head) < len(NPY_MAGIC):
                return
            self._decide()
            self._feed(memoryview(bytes(self._head)))
            self._feed(data[take:])
            return
        self._feed(data)

    def finish(self) -> Tuple[Optional[Tuple[PickleScan, bool]], Optional[ContentReport]]:
        if self._kind == "sniff":
            self._decide()
            self._feed(memoryview(bytes(self._head)))
        if self._reader is not None:
            return (self._reader.finish(), self._trailing), None
        if self._npy is not None:
            return None, self._npy.finish()
        return None, None

    def _decide(self) -> None:
        h = bytes(self._head)
        if self._name.lower().endswith(".pkl") or h[:1] == b"\x80":
            self._kind = "pickle"
            self._reader = PickleReader(self._base)
        elif h == NPY_MAGIC:
            self._kind = "npy"
            self._npy = NpyCheck(self._base)
        else:
            self._kind = "data"

    def _feed(self, data: memoryview) -> None:
        if not len(data):
            return
        if self._reader is not None:
            if self._reader.done:
                self._trailing = True
                return
            if self._reader.push(data) < len(data):
                self._trailing = True
        elif self._npy is not None:
            self._npy.push(data)


class _MemberReader:
    """One member: its local header (collected, checked), then its data (to _MemberContent, inflated if deflated)."""

    def __init__(self, entry: ZipEntry, plan: ZipPlan, problems: List[str]) -> None:
        self.entry = entry
        self._plan = plan
        self._problems = problems
        self.cursor = entry.local_offset
        #: Where the member's bytes end; known once the local header is read.
        self.data_end = -1
        self.done = False
        self._header = bytearray()
        self._header_length = 30
        self._content: Optional[_MemberContent] = None
        self._inflate: Optional["zlib._Decompress"] = None
        self._inflated = 0
        self._inflate_error: Optional[str] = None

    def feed(self, chunk: memoryview, pos: int) -> None:
        end = pos + len(chunk)
        while not self.done and self.cursor < end:
            if self.data_end < 0:
                take = min(self._header_length - len(self._header), end - self.cursor)
                self._header += chunk[self.cursor - pos : self.cursor - pos + take]
                self.cursor += take
                if len(self._header) == 30:
                    if self._header[:4] != _LOCAL:
                        self._problems.append(f"the member {_q(self.entry.name)} has no local header where the directory says")
                        self.done = True
                        return
                    self._header_length = 30 + _u16(self._header, 26) + _u16(self._header, 28)
                if len(self._header) == self._header_length:
                    self._start_data()
                continue
            take = min(self.data_end - self.cursor, end - self.cursor)
            if self._content is not None and self._content.wants_more and self._inflate_error is None:
                self._data(chunk[self.cursor - pos : self.cursor - pos + take])
            self.cursor += take
            if self.cursor == self.data_end:
                self._end_data()

    def result(self) -> MemberResult:
        if not self.done:
            self._problems.append(f"the member {_q(self.entry.name)} runs past the end of the file")
        pickle, npy = self._content.finish() if self._content is not None else (None, None)
        if self._inflate_error is not None and (pickle is not None or npy is not None):
            self._problems.append(f"the member {_q(self.entry.name)} does not inflate: {self._inflate_error}")
        return MemberResult(self.entry, pickle, npy)

    def _start_data(self) -> None:
        entry = self.entry
        h = bytes(self._header)
        name_length = _u16(h, 26)
        local_name = h[30 : 30 + name_length].decode("utf-8", "replace")
        quoted = _q(entry.name)
        if local_name != entry.name:
            self._problems.append(f"the local header of {quoted} names {_q(local_name)}")
        if _u16(h, 8) != entry.method:
            self._problems.append(f"the local header of {quoted} gives another compression method than the directory")
        if (_u16(h, 6) & 0x1) != (entry.flags & 0x1):
            self._problems.append(f"the local header of {quoted} disagrees with the directory on encryption")
        # Sizes: torch leaves them zero and puts them in a data descriptor (flag 0x8); any other
        # value must be the directory's (a ZIP64 local header says 0xFFFFFFFF).
        compressed = _u32(h, 18)
        size = _u32(h, 22)
        descriptor = (_u16(h, 6) & 0x8) != 0

        def agrees(local: int, central: int) -> bool:
            return local == central or local == 0xFFFFFFFF or (descriptor and local == 0)

        if not agrees(compressed, entry.compressed_size) or not agrees(size, entry.size):
            self._problems.append(f"the local header of {quoted} gives other sizes than the directory")
        self.data_end = self.cursor + entry.compressed_size
        if self.data_end > self._plan.dir_offset:
            self._problems.append(f"the member {quoted} runs into the central directory")
        self._header = bytearray()
        if entry.method in (0, 8):
            self._content = _MemberContent(entry.name, self.cursor)
            if entry.method == 8:
                self._inflate = zlib.decompressobj(-15)
        elif _PKL_OR_NPY.search(entry.name):
            self._problems.append(f"the member {quoted} uses compression method {entry.method}, which PyTorch and NumPy cannot read")
        if self.data_end == self.cursor:
            self._end_data()

    def _data(self, data: memoryview) -> None:
        assert self._content is not None
        if self._inflate is None:
            self._content.push(data)
            return
        try:
            pending: bytes = bytes(data)
            while pending and self._content.wants_more:
                out = self._inflate.decompress(pending, _INFLATE_STEP)
                pending = self._inflate.unconsumed_tail
                self._inflated += len(out)
                if self._inflated > self.entry.size:
                    raise ValueError(f"it inflates past the {self.entry.size} bytes the directory gives")
                if out:
                    self._content.push(memoryview(out))
                if self._inflate.eof:
                    break
        except (zlib.error, ValueError) as err:
            self._inflate_error = str(err)

    def _end_data(self) -> None:
        if self._inflate is not None and self._inflate_error is None and self._content is not None and self._content.wants_more:
            try:
                out = self._inflate.flush()
                self._inflated += len(out)
                if self._inflated > self.entry.size:
                    raise ValueError(f"it inflates past the {self.entry.size} bytes the directory gives")
                if out:
                    self._content.push(memoryview(out))
                if not self._inflate.eof:
                    raise ValueError("unexpected EOF")
            except (zlib.error, ValueError) as err:
                self._inflate_error = str(err)
        self.done = True


class ZipStream:
    def __init__(self, plan: ZipPlan, preread: Sequence[Tuple[int, bytes]]) -> None:
        self._plan = plan
        self._preread = preread
        self._pos = 0
        self._problems: List[str] = []
        self._readers = sorted((_MemberReader(e, plan, self._problems) for e in plan.entries), key=lambda r: r.entry.local_offset)
        self._next = 0
        self._active: List[_MemberReader] = []
        self._changed: Optional[str] = None

    def push(self, chunk: memoryview) -> None:
        pos = self._pos
        end = pos + len(chunk)
        self._pos = end
        if self._changed is None:
            for at, data in self._preread:
                lo, hi = max(pos, at), min(end, at + len(data))
                if lo < hi and chunk[lo - pos : hi - pos] != data[lo - at : hi - at]:
                    k = next(k for k in range(lo, hi) if chunk[k - pos] != data[k - at])
                    self._changed = f"byte {k} changed between reading the directory and hashing the file"
                    break
        while self._next < len(self._readers) and self._readers[self._next].entry.local_offset < end:
            self._active.append(self._readers[self._next])
            self._next += 1
        if not self._active:
            return
        for reader in self._active:
            reader.feed(chunk, pos)
        if any(r.done for r in self._active):
            self._active = [r for r in self._active if not r.done]

    def finish(self) -> ZipStreamResult:
        if self._pos != self._plan.size and self._changed is None:
            self._changed = f"the file was {self._plan.size} bytes when its directory was read and {self._pos} when hashed"
        members = [r.result() for r in self._readers]
        # Members in file order: each must end before the next begins.
        for a, b in zip(self._readers, self._readers[1:]):
            if a.data_end > b.entry.local_offset:
                self._problems.append(f"the members {_q(a.entry.name)} and {_q(b.entry.name)} overlap")
        return ZipStreamResult(members, [*self._plan.problems, *self._problems], self._changed)


def _u16(data: "bytes | bytearray", at: int) -> int:
    return int.from_bytes(data[at : at + 2], "little")


def _u32(data: "bytes | bytearray", at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


def _q(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)
