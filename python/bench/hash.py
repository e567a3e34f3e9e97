#!/usr/bin/env python3
"""`npm run bench:python`: modelsign-verify's hashing against `openssl dgst -sha256` on the same
files in the same run, on bench/hash.ts's corpus: one 2 GiB file (target: >= 0.9x openssl's
speed) and 8 files of 256 MiB against openssl hashing them one after another (target: >= 1.6x on
2 cores). Files are random data written once and read through the page cache by both tools; each
figure is the median of BENCH_RUNS (default 5) paired whole-process runs (openssl, then Python),
so start-up counts for both.

    python3 python/bench/hash.py            (BENCH_DIR: where the corpus goes; default /tmp)

The Python side is `hash_files` from the package this interpreter imports (the source tree is put
first on sys.path), as `modelsign-verify verify` runs it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Tuple

MiB = 1 << 20
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SRC = Path(__file__).resolve().parents[1] / "src"


def hash_main(paths: List[str]) -> None:
    sys.path.insert(0, str(SRC))
    from modelsign_verify.files import ModelFile
    from modelsign_verify.hashing import hash_files

    files = [ModelFile(os.path.basename(p), p, os.path.getsize(p)) for p in paths]
    for f, d in zip(files, hash_files(files, progress=None)):
        print(d, f.path)


def write_random(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        for _ in range(size // (16 * MiB)):
            f.write(os.urandom(16 * MiB))


def timed(cmd: List[str]) -> Tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t0, out


def digests(out: str, openssl: bool) -> List[str]:
    # openssl: "SHA2-256(path)= hex"; ours: "hex name"
    return [line.rsplit(" ", 1)[-1] if openssl else line.split(" ", 1)[0] for line in out.strip().splitlines()]


def paired(label: str, size: int, paths: List[str]) -> float:
    ratios = []
    pairs = []
    for _ in range(RUNS):
        a, out_a = timed(["openssl", "dgst", "-sha256", *paths])
        b, out_b = timed([sys.executable, __file__, "--hash", *paths])
        if digests(out_a, True) != digests(out_b, False):
            raise SystemExit(f"digests differ:\n{out_a}\n{out_b}")
        ratios.append(a / b)
        pairs.append((a, b))
    order = sorted(range(RUNS), key=lambda i: ratios[i])
    mid = order[RUNS // 2]
    a, b = pairs[mid]
    print(f"{label} (median of {RUNS} pairs; ratios {' '.join(f'{r:.2f}' for r in ratios)})")
    print(f"  openssl          {a:.2f} s ({size / MiB / a:.0f} MiB/s)")
    print(f"  modelsign-verify {b:.2f} s ({size / MiB / b:.0f} MiB/s)")
    return ratios[mid]


def main() -> int:
    if shutil.which("openssl") is None:
        raise SystemExit("bench needs openssl")
    root = Path(tempfile.mkdtemp(prefix="modelsign-bench-pyhash-", dir=os.environ.get("BENCH_DIR")))
    try:
        print(f"writing 2 GiB + 8 x 256 MiB of random data in {root}...", flush=True)
        big = root / "model-2g.safetensors"
        write_random(big, 2048 * MiB)
        shards = [root / f"model-0000{i + 1}-of-00008.safetensors" for i in range(8)]
        for s in shards:
            write_random(s, 256 * MiB)
        subprocess.run(["openssl", "dgst", "-sha256", str(big), *map(str, shards)], check=True, capture_output=True)
        print(f"{os.cpu_count()} CPUs, {sys.version.split()[0]}, OpenSSL {subprocess.run(['openssl', 'version'], capture_output=True, text=True).stdout.strip()}")
        one = paired("one 2 GiB file", 2048 * MiB, [str(big)])
        many = paired("8 x 256 MiB", 2048 * MiB, [str(s) for s in shards])
        ok_one, ok_many = one >= 0.9, many >= 1.6
        print(f"\none file: {one:.2f}x openssl's speed (target >= 0.9: {'PASS' if ok_one else 'FAIL'})")
        print(f"8 files:  {many:.2f}x openssl one after another (target >= 1.6 on 2 cores: {'PASS' if ok_many else 'FAIL'})")
        return 0 if ok_one and ok_many else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--hash":
        hash_main(sys.argv[2:])
    else:
        sys.exit(main())
