#!/usr/bin/env python3
"""`npm run bench:python`: modelsign-verify's hashing against `openssl dgst -sha256` on the same
files in the same run, on bench/hash.ts's corpus: one 2 GiB file (target: >= 0.9x openssl's
speed) and 8 files of 256 MiB against openssl hashing them one after another (target: >= 1.6x on
2 cores). Files are random data written once and read through the page cache by both tools; each
figure is the median of BENCH_RUNS (default 5) paired whole-process runs (openssl, then Python),
so start-up counts for both.

Then the content check in the same pass against hashing alone, in this process, on the corpus
bench/hash.ts checks: a 1 GiB PyTorch zip (torch's own layout, written by the same code, through
node) and a folder of real safetensors files (2 GiB + 8 x 256 MiB): target <= 1.2x for each.

    python3 python/bench/hash.py            (BENCH_DIR: where the corpus goes; default /tmp)
    python3 python/bench/hash.py --check    (only the content check's part)

The Python side is `hash_files` from the package this interpreter imports (the source tree is put
first on sys.path), as `modelsign-verify verify` runs it."""
from __future__ import annotations

import json
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


def write_safetensors(path: Path, size: int) -> None:
    """A safetensors file of ``size`` bytes in all: one U8 tensor of random bytes after a real header."""
    for pad in range(8):
        n = size - 8 - 128 - pad
        header = json.dumps({"t": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}}).encode()
        header += b" " * (128 + pad - len(header))
        if len(header) == 128 + pad and len(header) % 8 == 0:
            break
    with open(path, "wb") as f:
        f.write(len(header).to_bytes(8, "little") + header)
        left = size - 8 - len(header)
        while left > 0:
            part = min(left, 16 * MiB)
            f.write(os.urandom(part))
            left -= part


def in_process(label: str, files: List["ModelFile"]) -> float:
    """Median of paired runs (hashing alone, then hashing with the check), as time with / time alone."""
    from modelsign_verify.hashing import hash_and_check_files, hash_files

    ratios: List[float] = []
    pairs: List[Tuple[float, float]] = []
    verdicts = set()
    for _ in range(RUNS):
        t0 = time.perf_counter()
        alone = hash_files(files, progress=None)
        t1 = time.perf_counter()
        checked = hash_and_check_files(files, progress=None)
        t2 = time.perf_counter()
        if [d for d, _ in checked] != alone:
            raise SystemExit("digests differ with the check")
        verdicts |= {r.verdict for _, r in checked}
        pairs.append((t1 - t0, t2 - t1))
        ratios.append((t2 - t1) / (t1 - t0))
    mid = sorted(range(RUNS), key=lambda i: ratios[i])[RUNS // 2]
    size = sum(f.size for f in files)
    a, b = pairs[mid]
    print(f"{label} (median of {RUNS} pairs; ratios {' '.join(f'{r:.3f}' for r in ratios)}; verdicts {', '.join(sorted(verdicts))})")
    print(f"  hashing alone    {a:.2f} s ({size / MiB / a:.0f} MiB/s)")
    print(f"  with the check   {b:.2f} s ({size / MiB / b:.0f} MiB/s)")
    return ratios[mid]


def check_bench(root: Path) -> bool:
    sys.path.insert(0, str(SRC))
    from modelsign_verify.files import ModelFile

    repo = Path(__file__).resolve().parents[2]
    zip_file = root / "model-1g.pt"
    print(f"writing a 1 GiB PyTorch zip (test/support/crafted-content.ts, through node) and 2 GiB + 8 x 256 MiB of safetensors in {root}...", flush=True)
    script = f"const m = await import({json.dumps(str(repo / 'test/support/crafted-content.ts'))}); m.writeLargeStateDict({json.dumps(str(zip_file))}, {1024 * MiB}, 7);"
    subprocess.run(["node", "--import", "tsx", "--input-type=module", "--eval", script], check=True, cwd=repo)
    folder = root / "safetensors"
    folder.mkdir()
    write_safetensors(folder / "model.safetensors", 2048 * MiB)
    for i in range(8):
        write_safetensors(folder / f"model-0000{i + 1}-of-00008.safetensors", 256 * MiB)
    zip_files = [ModelFile("model-1g.pt", str(zip_file), zip_file.stat().st_size)]
    st_files = [ModelFile(p.name, str(p), p.stat().st_size) for p in sorted(folder.iterdir())]
    from modelsign_verify.hashing import hash_and_check_files

    for files, want in ((zip_files, "allowlisted-pickle"), (st_files, "data-only")):
        got = {r.verdict for _, r in hash_and_check_files(files, progress=None)}
        if got != {want}:
            raise SystemExit(f"the bench corpus is not what it should be: {got}, wanted {want}")
    z = in_process("check a 1 GiB PyTorch zip", zip_files)
    f = in_process("check 2 GiB + 8 x 256 MiB safetensors", st_files)
    ok_z, ok_f = z <= 1.2, f <= 1.2
    print(f"\nchecking a 1 GiB PyTorch zip: {z:.3f}x hashing it alone (target <= 1.2: {'PASS' if ok_z else 'FAIL'})")
    print(f"checking the safetensors folder: {f:.3f}x hashing it alone (target <= 1.2: {'PASS' if ok_f else 'FAIL'})")
    return ok_z and ok_f


def main() -> int:
    if "--check" in sys.argv[1:]:
        root = Path(tempfile.mkdtemp(prefix="modelsign-bench-pycheck-", dir=os.environ.get("BENCH_DIR")))
        try:
            return 0 if check_bench(root) else 1
        finally:
            shutil.rmtree(root, ignore_errors=True)
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
        print(f"8 files:  {many:.2f}x openssl one after another (target >= 1.6 on 2 cores: {'PASS' if ok_many else 'FAIL'})\n")
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir()
        ok_check = check_bench(root)
        return 0 if ok_one and ok_many and ok_check else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--hash":
        hash_main(sys.argv[2:])
    else:
        sys.exit(main())
