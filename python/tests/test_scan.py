"""The Python content check on its own (test/parity/content.test.ts holds it to the TypeScript
checker's verdicts file by file): the verdict does not depend on how the bytes arrive, a zip
that changes between the read-ahead and the hashing pass is refused, every opcode the reader
decodes is the one pickletools documents, the reader stops where pickletools' own walk stops, and
``modelsign-verify scan`` gives the Node CLI's exit codes and JSON shape."""
from __future__ import annotations

import io
import json
import os
import pickle
import pickletools
import shutil
import zipfile
from pathlib import Path
from typing import List, Tuple

import pytest

from modelsign_verify.cli import main
from modelsign_verify.files import ModelFile
from modelsign_verify.hashing import hash_and_check_files, hash_files
from modelsign_verify.scan import ContentCheck, ContentReport, check_content, read_ahead
from modelsign_verify.scan.pickle_vm import KNOWN_OPCODES, scan_pickle

REPO = Path(__file__).resolve().parents[2]
TORCH = REPO / "test" / "fixtures" / "torch"


def torch_fixtures() -> List[Tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(TORCH.iterdir()) if p.name != "oracle.json"]


def chunked(name: str, data: bytes, size: int) -> ContentReport:
    """Fed through one reused buffer, as hashing feeds it: a checker that kept a view would change its mind."""
    check = ContentCheck(name, len(data))
    read_ahead(check, lambda at, length: data[at : at + length])
    buf = bytearray(size)
    view = memoryview(buf)
    for at in range(0, len(data), size):
        part = data[at : at + size]
        buf[: len(part)] = part
        check.push(view[: len(part)])
        buf[:] = b"\xaa" * size  # scribbled over before the next read
    return check.finish()


def test_the_verdict_does_not_depend_on_how_the_bytes_arrive() -> None:
    files = torch_fixtures()
    assert len(files) >= 90
    for name, data in files:
        whole = check_content(name, data)
        for size in (1, 7, 512, 4096):
            assert chunked(name, data, size) == whole, f"{name} in chunks of {size}"


def test_a_zip_that_changes_between_the_read_ahead_and_the_hashing_pass_is_refused() -> None:
    data = (TORCH / "state-dict.pt").read_bytes()
    assert check_content("state-dict.pt", data).verdict == "allowlisted-pickle"
    # The directory read from the bytes on disk, then one byte of the directory differs when hashed.
    for offset in (len(data) - 30, len(data) - 200):
        changed = bytearray(data)
        changed[offset] ^= 0xFF
        check = ContentCheck("state-dict.pt", len(data))
        read_ahead(check, lambda at, length: data[at : at + length])
        check.push(bytes(changed))
        report = check.finish()
        assert (report.verdict, report.findings[0].code) == ("malformed", "zip_changed_while_read")
    # Longer when hashed than when its directory was read.
    check = ContentCheck("state-dict.pt", len(data))
    read_ahead(check, lambda at, length: data[at : at + length])
    check.push(data + b"\x00")
    assert check.finish().findings[0].code == "zip_changed_while_read"


def test_every_opcode_the_reader_decodes_is_the_one_pickletools_documents() -> None:
    documented = {ord(op.code) for op in pickletools.opcodes}
    assert set(KNOWN_OPCODES) == documented


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_the_reader_stops_where_pickletools_walk_stops(protocol: int) -> None:
    # Protocol 0 writes bytes as a text line; lines over 64 KiB are refused by both checkers (a name is never that long).
    long_bytes = b"\x00" * (1000 if protocol == 0 else 70_000)
    value = {"a": [1, 2.5, "text", long_bytes, (None, True)], "b": {"nested": list(range(300))}, "c": bytearray(b"xy")}
    data = pickle.dumps(value, protocol=protocol) + b"trailing"
    stop = [pos for op, _, pos in pickletools.genops(io.BytesIO(data)) if op.name == "STOP"][0]
    scan = scan_pickle(data)
    assert scan.error is None
    assert scan.end == stop + 1


def test_hash_and_check_reads_once_and_gives_the_same_digests(tmp_path: Path) -> None:
    files = []
    for name in ("state-dict.pt", "payload.pt", "array.npy"):
        shutil.copy(TORCH / name, tmp_path / name)
        files.append(ModelFile(name, str(tmp_path / name), os.path.getsize(tmp_path / name)))
    checked = hash_and_check_files(files, threads=2, progress=None)
    assert [d for d, _ in checked] == hash_files(files, threads=1, progress=None)
    assert [r.verdict for _, r in checked][:2] == ["allowlisted-pickle", "code-capable"]


def test_scan_gives_the_node_cli_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copy(TORCH / "state-dict.pt", clean / "model.pt")
    (clean / "config.json").write_text('{"a": 1}')
    assert main(["scan", str(clean)]) == 0
    out = capsys.readouterr().out
    assert "allowlisted-pickle  model.pt (pytorch-zip)" in out and "scan: 2 files" in out
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(TORCH / "payload.pt", bad / "model.pt")
    assert main(["scan", str(bad), "--json"]) == 8
    doc = json.loads(capsys.readouterr().out)
    assert doc["checker"] == "modelsign-verify-scan" and doc["ok"] is False and doc["exitCode"] == 8
    [f] = doc["files"]
    assert (f["path"], f["verdict"], f["format"], f["findings"][0]["code"]) == ("model.pt", "code-capable", "pytorch-zip", "pickle_unsafe_global")
    assert "posix.system" in f["findings"][0]["message"]
    assert main(["scan", str(tmp_path / "missing")]) == 4
    assert main(["scan"]) == 2


def test_a_compressed_pickle_in_a_zip_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", pickle.dumps({"a": 1}, protocol=2))
        z.writestr("archive/version", "3\n")
    report = check_content("model.pt", buf.getvalue())
    assert (report.verdict, report.format, [f.code for f in report.findings]) == ("malformed", "pytorch-zip", ["zip_compressed_pickle"])
