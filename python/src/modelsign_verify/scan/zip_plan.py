"""The central directory of a zip archive (src/core/scan/zip.ts), read first, from the end of the
file, as PyTorch's miniz reads it: the end record, the ZIP64 records when the end record says
so, then the directory. The caller reads the ranges ``ZipPreread.wanted()`` names by position
before streaming the file through hashing; the stream then compares these same ranges with the
hashed bytes, so the verdict is on exactly what was hashed. ``zipfile`` is not used: it reads
from a file it seeks itself (not the bytes that were hashed), takes the first of two end
records, and does not tell a duplicate member from a repeated name."""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

_EOCD = 0x06054B50
_CENTRAL = 0x02014B50
_ZIP64_EOCD = 0x06064B50
_ZIP64_LOCATOR = 0x07064B50
MAX_ENTRIES = 1_000_000
MAX_DIRECTORY = 64 * 1024 * 1024
END_WINDOW = 22 + 0xFFFF
_MAX_SAFE = (1 << 53) - 1


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


@dataclass
class ZipEntry:
    name: str
    #: 0 stored, 8 deflated.
    method: int
    flags: int
    compressed_size: int
    size: int
    #: Where the member's local header starts.
    local_offset: int


@dataclass
class ZipPlan:
    #: The file size the directory was read from: the hashed length must equal it.
    size: int
    entries: List[ZipEntry]
    #: Where the central directory starts: no member may run into it.
    dir_offset: int
    #: What is wrong but does not stop every member being checked.
    problems: List[str] = field(default_factory=list)


ByteRange = Tuple[int, int]


class _Missing(Exception):
    def __init__(self, at: int, length: int) -> None:
        super().__init__("not read yet")
        self.range = (at, length)


class ZipError(Exception):
    pass


class ZipPreread:
    """``wanted()`` names the next range (offset, length) to read, or None once done;
    ``provide(data)`` hands it over. Then ``plan`` is the directory, or ``error`` says why there is none."""

    def __init__(self, size: int) -> None:
        self._size = size
        #: The bytes read ahead, by offset; the stream compares them with what it hashes.
        self.ranges: List[Tuple[int, bytes]] = []
        self.plan: Optional[ZipPlan] = None
        self.error: Optional[str] = None
        at = max(0, size - END_WINDOW)
        self._want: Optional[ByteRange] = (at, size - at)

    def wanted(self) -> Optional[ByteRange]:
        return self._want

    def provide(self, data: bytes) -> None:
        want = self._want
        if want is None:
            raise RuntimeError("ZipPreread: nothing was wanted")
        if len(data) != want[1]:
            self._want = None
            self.error = f"the file is shorter than its size when read ({want[1]} bytes wanted at {want[0]}, {len(data)} read)"
            return
        self.ranges.append((want[0], bytes(data)))
        self._want = None
        try:
            self.plan = self._read()
        except _Missing as missing:
            self._want = missing.range
        except ZipError as err:
            self.error = str(err)

    def _bytes_at(self, at: int, length: int) -> bytes:
        if at < 0 or at + length > self._size:
            raise ZipError(f"bytes {at} to {at + length} lie outside the file")
        for start, data in self.ranges:
            if at >= start and at + length <= start + len(data):
                return data[at - start : at - start + length]
        raise _Missing(at, length)

    def _u16(self, at: int) -> int:
        return int.from_bytes(self._bytes_at(at, 2), "little")

    def _u32(self, at: int) -> int:
        return int.from_bytes(self._bytes_at(at, 4), "little")

    def _u64(self, at: int) -> int:
        n = int.from_bytes(self._bytes_at(at, 8), "little")
        if n > _MAX_SAFE:
            raise ZipError("a ZIP64 size or offset beyond 2^53")
        return n

    def _read(self) -> ZipPlan:
        size = self._size
        u16, u32, u64 = self._u16, self._u32, self._u64
        # miniz takes the last end-record signature in the window; a reader that wants the comment
        # to end the file takes the one that does. Two candidates: two archives in one file, refused.
        signatures: List[int] = []
        if size >= 22:
            window_at = max(0, size - END_WINDOW)
            window = self._bytes_at(window_at, size - window_at)
            end_of_search = size - 22 - window_at + 4
            while (found := window.rfind(b"PK\x05\x06", 0, end_of_search)) >= 0:
                signatures.append(window_at + found)
                end_of_search = found + 3
        problems: List[str] = []
        if not signatures:
            raise ZipError("no end-of-central-directory record")
        exact = [at for at in signatures if at + 22 + u16(at + 20) == size]
        if len(exact) > 1 or (len(exact) == 1 and exact[0] != signatures[0]):
            raise ZipError("more than one end-of-central-directory record")
        eocd = signatures[0]
        if not exact:
            end = eocd + 22 + u16(eocd + 20)
            problems.append("the end record's comment runs past the end of the file" if end > size else f"{size - end} bytes after the end-of-central-directory record")
        count = u16(eocd + 10)
        dir_size = u32(eocd + 12)
        dir_offset = u32(eocd + 16)
        dir_limit = eocd
        if count == 0xFFFF or dir_size == 0xFFFFFFFF or dir_offset == 0xFFFFFFFF:
            locator = eocd - 20
            if locator < 0 or u32(locator) != _ZIP64_LOCATOR:
                raise ZipError("a ZIP64 archive without its locator")
            z = u64(locator + 8)
            if z + 56 > locator or u32(z) != _ZIP64_EOCD:
                raise ZipError("a ZIP64 locator that points at no ZIP64 end record")
            count = u64(z + 32)
            dir_size = u64(z + 40)
            dir_offset = u64(z + 48)
            dir_limit = z
        if count > MAX_ENTRIES:
            raise ZipError(f"more than {MAX_ENTRIES} members")
        if dir_size > MAX_DIRECTORY:
            raise ZipError(f"a central directory of more than {MAX_DIRECTORY} bytes")
        if dir_offset + dir_size > dir_limit:
            raise ZipError("the central directory runs past the end records")
        self._bytes_at(dir_offset, dir_size)  # the whole directory in one read, when it was not in the end window

        entries: List[ZipEntry] = []
        names = set()
        at = dir_offset
        dir_end = dir_offset + dir_size
        for k in range(count):
            if at + 46 > dir_end or u32(at) != _CENTRAL:
                raise ZipError(f"central directory entry {k} is not where the directory says")
            flags = u16(at + 8)
            method = u16(at + 10)
            compressed_size = u32(at + 20)
            size32 = u32(at + 24)
            name_length = u16(at + 28)
            extra_length = u16(at + 30)
            comment_length = u16(at + 32)
            local_offset = u32(at + 42)
            if at + 46 + name_length + extra_length + comment_length > dir_end:
                raise ZipError(f"central directory entry {k} runs past the directory")
            try:
                name = self._bytes_at(at + 46, name_length).decode("utf-8")
            except UnicodeDecodeError:
                raise ZipError(f"central directory entry {k} has a name that is not UTF-8") from None
            quoted = json.dumps(name, ensure_ascii=False)
            # ZIP64 sizes and offset live in the extra field, in this order, for the fields set to all ones.
            e = at + 46 + name_length
            extra_end = e + extra_length
            while e + 4 <= extra_end:
                ident = u16(e)
                length = u16(e + 2)
                if ident == 0x0001:
                    p = e + 4
                    end = p + length

                    def nxt() -> int:
                        nonlocal p
                        if p + 8 > end:
                            raise ZipError(f"the ZIP64 field of {quoted} is too short")
                        p += 8
                        return u64(p - 8)

                    if size32 == 0xFFFFFFFF:
                        size32 = nxt()
                    if compressed_size == 0xFFFFFFFF:
                        compressed_size = nxt()
                    if local_offset == 0xFFFFFFFF:
                        local_offset = nxt()
                e += 4 + length
            if name in names:
                problems.append(f"the member {quoted} appears twice (which one a loader opens is unspecified)")
            names.add(name)
            if flags & 0x1:
                problems.append(f"the member {quoted} is encrypted")
            if local_offset + 30 + name_length + compressed_size > dir_offset:
                raise ZipError(f"the member {quoted} runs into the central directory")
            entries.append(ZipEntry(name, method, flags, compressed_size, size32, local_offset))
            at += 46 + name_length + extra_length + comment_length
        return ZipPlan(size, entries, dir_offset, problems)
