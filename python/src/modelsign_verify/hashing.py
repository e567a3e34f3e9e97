"""SHA-256 of a model's files at the hardware's speed: large reads into one reused buffer per
thread (no allocation per chunk), and files on several threads at once (hashlib releases the GIL
while it hashes a large buffer, so threads use every core). bench/hash.py measures it against
openssl in the same run."""
from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional, Sequence, TextIO

from .files import ModelFile

CHUNK = 1 << 20


def sha256_file(path: str, buffer: Optional[bytearray] = None, on_bytes: Optional[Callable[[int], None]] = None) -> str:
    buf = buffer if buffer is not None else bytearray(CHUNK)
    view = memoryview(buf)
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            digest.update(view[:n])
            if on_bytes is not None:
                on_bytes(n)
    return digest.hexdigest()


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
    workers = max(1, min(len(files), threads or os.cpu_count() or 1))
    bar = _Progress(sum(f.size for f in files), progress)
    local = threading.local()

    def one(f: ModelFile) -> str:
        if not hasattr(local, "buffer"):
            local.buffer = bytearray(CHUNK)
        return sha256_file(f.abs, local.buffer, bar.add)

    try:
        if workers == 1:
            return [one(f) for f in files]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(one, files))
    finally:
        bar.end()
