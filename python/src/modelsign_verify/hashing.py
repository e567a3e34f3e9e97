"""SHA-256 of a model's files at the hardware's speed: large reads into one reused buffer per
thread (no allocation per chunk), and files on several threads at once (hashlib releases the GIL
while it hashes a large buffer, so threads use every core). bench/hash.py measures it against
openssl in the same run. With ``check``, the content check (scan/) runs over the same chunks, so
its verdict is on exactly the bytes that were hashed."""
from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional, Sequence, TextIO, Tuple, TypeVar

from .files import ModelFile
from .scan import ContentCheck, ContentReport, read_ahead

T = TypeVar("T")
I = TypeVar("I")

CHUNK = 1 << 20


def sha256_file(path: str, buffer: Optional[bytearray] = None, on_bytes: Optional[Callable[[int], None]] = None) -> str:
    return _hash(path, None, buffer, on_bytes)[0]


def sha256_and_check(path: str, name: str, buffer: Optional[bytearray] = None, on_bytes: Optional[Callable[[int], None]] = None) -> Tuple[str, ContentReport]:
    """The SHA-256 of the file and the content check's verdict on the same bytes, in one read.
    ``name`` is the file's path in the model (its extension matters for raw pickles)."""
    digest, report = _hash(path, name, buffer, on_bytes)
    assert report is not None
    return digest, report


def _hash(path: str, name: Optional[str], buffer: Optional[bytearray], on_bytes: Optional[Callable[[int], None]]) -> Tuple[str, Optional[ContentReport]]:
    with open(path, "rb", buffering=0) as f:
        return hash_descriptor(f.fileno(), name, buffer, on_bytes)


def hash_descriptor(fd: int, name: Optional[str], buffer: Optional[bytearray] = None, on_bytes: Optional[Callable[[int], None]] = None) -> Tuple[str, Optional[ContentReport]]:
    """The SHA-256 of the open file ``fd`` from its first byte (read by position: the descriptor's
    offset is left alone) and, with ``name``, the content check's verdict on the same bytes."""
    buf = buffer if buffer is not None else bytearray(CHUNK)
    view = memoryview(buf)
    digest = hashlib.sha256()
    check: Optional[ContentCheck] = None
    if name is not None:
        # The size at open and the ranges read ahead (a zip's directory) are compared with what is hashed.
        check = ContentCheck(name, os.fstat(fd).st_size)
        read_ahead(check, lambda at, length: _pread_all(fd, at, length))
    at = 0
    while True:
        n = os.preadv(fd, [buf], at) if hasattr(os, "preadv") else _pread_into(fd, view, at)
        if not n:
            break
        at += n
        digest.update(view[:n])
        if check is not None:
            check.push(view[:n])
        if on_bytes is not None:
            on_bytes(n)
    return digest.hexdigest(), check.finish() if check is not None else None


def _pread_into(fd: int, view: memoryview, at: int) -> int:
    part = os.pread(fd, len(view), at)
    view[: len(part)] = part
    return len(part)


def _pread_all(fd: int, at: int, length: int) -> bytes:
    out = bytearray()
    while len(out) < length:
        part = os.pread(fd, length - len(out), at + len(out))
        if not part:
            break
        out += part
    return bytes(out)


class _Progress:
    """One line on a terminal, rewritten at most five times a second; nothing when not a terminal."""

    def __init__(self, total: int, stream: Optional[TextIO]) -> None:
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None and stream.isatty() else None
        self.lock = threading.Lock()
        self.last = 0.0

    def add(self, n: int) -> None:
        if self.stream is None:
            return
        with self.lock:
            self.done += n
            now = time.monotonic()
            if now - self.last >= 0.2:
                self.last = now
                self.stream.write(f"\rhashing: {self.done >> 20} of {self.total >> 20} MiB")
                self.stream.flush()

    def end(self) -> None:
        if self.stream is not None and self.last:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def hash_files(files: Sequence[ModelFile], threads: Optional[int] = None, progress: Optional[TextIO] = sys.stderr) -> List[str]:
    """The SHA-256 of each file, in order."""
    return _each(files, lambda f, buf, add: sha256_file(f.abs, buf, add), threads, progress, sum(f.size for f in files))


def hash_and_check_files(files: Sequence[ModelFile], threads: Optional[int] = None, progress: Optional[TextIO] = sys.stderr) -> List[Tuple[str, ContentReport]]:
    """The SHA-256 of each file and the content check's verdict on it, in order, in one read of each."""
    return _each(files, lambda f, buf, add: sha256_and_check(f.abs, f.path, buf, add), threads, progress, sum(f.size for f in files))


def hash_and_check_descriptors(opened: Sequence[Tuple[str, int]], threads: Optional[int] = None) -> List[Tuple[str, ContentReport]]:
    """Each open file (its name in the model, its descriptor) hashed and checked from its first byte, in order."""

    def one(item: Tuple[str, int], buf: bytearray, add: Callable[[int], None]) -> Tuple[str, ContentReport]:
        digest, report = hash_descriptor(item[1], item[0], buf, add)
        assert report is not None
        return digest, report

    return _each(opened, one, threads, None, 0)


def _each(items: Sequence[I], one: Callable[[I, bytearray, Callable[[int], None]], T], threads: Optional[int], progress: Optional[TextIO], total: int) -> List[T]:
    """``one`` over ``items`` on a thread pool, each thread with one reused read buffer."""
    workers = max(1, min(len(items), threads or os.cpu_count() or 1))
    bar = _Progress(total, progress)
    local = threading.local()

    def run(item: I) -> T:
        if not hasattr(local, "buffer"):
            local.buffer = bytearray(CHUNK)
        return one(item, local.buffer, bar.add)

    try:
        if workers == 1:
            return [run(item) for item in items]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(run, items))
    finally:
        bar.end()
