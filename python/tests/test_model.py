"""verify_model on folders and files this test lays out and signs itself (a pinned Ed25519 key,
no log): listing rules, hashing, outcomes and exit codes, the CLI. Releases signed by a real
service are verified in test/cli/python-verify.test.ts."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelsign_verify import EXIT, KeySet, assert_verified, parse_spki_pem, pinned_key, verify_model, VerificationError
from modelsign_verify.cli import main
from modelsign_verify.dsse import IN_TOTO_PAYLOAD_TYPE, pre_auth_encoding
from modelsign_verify.files import DEFAULT_IGNORE_PATHS, ModelFile
from modelsign_verify.hashing import hash_files
from modelsign_verify.crypto import key_id

PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes([0x31]) * 32)
PEM = PRIVATE.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
KEY = parse_spki_pem(PEM)
assert KEY is not None
KEYS = KeySet([pinned_key(KEY)])


def sign(files: Dict[str, bytes], subject: str = "acme/model@1.0", ignore: Optional[List[str]] = None) -> dict[str, object]:
    resources = [{"algorithm": "sha256", "name": n, "digest": hashlib.sha256(b).hexdigest()} for n, b in sorted(files.items(), key=lambda x: x[0].encode())]
    root = hashlib.sha256(b"".join(bytes.fromhex(str(r["digest"])) for r in resources)).hexdigest()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": subject, "digest": {"sha256": root}}],
        "predicateType": "https://model_signing/signature/v1.0",
        "predicate": {"resources": resources, "serialization": {"allow_symlinks": False, "method": "files", "hash_type": "sha256", "ignore_paths": sorted(ignore if ignore is not None else DEFAULT_IGNORE_PATHS)}},
    }
    payload = json.dumps(statement, separators=(",", ":")).encode()
    sig = PRIVATE.sign(pre_auth_encoding(IN_TOTO_PAYLOAD_TYPE, payload))
    return {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": key_id(KEY)}, "tlogEntries": []},
        "dsseEnvelope": {"payload": base64.b64encode(payload).decode(), "payloadType": IN_TOTO_PAYLOAD_TYPE, "signatures": [{"sig": base64.b64encode(sig).decode(), "keyid": ""}]},
    }


FILES = {"config.json": b'{"layers": 2}\n', "weights/model.safetensors": b"\x00" * 9 + os.urandom(3 << 20), "tokenizer/語彙.txt": b"a\nb\n"}


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "model.sig").write_text(json.dumps(sign(FILES)))
    return root


def test_verifies_an_intact_folder_and_reports_what_it_is(model: Path) -> None:
    report = verify_model(str(model), KEYS)
    assert report.outcome == "verified" and report.exit_code == 0, report.reasons
    assert (report.model, report.version, report.log_checked) == ("acme/model", "1.0", False)
    assert assert_verified(str(model), KEYS).verified


def test_one_byte_changed_is_named(model: Path) -> None:
    p = model / "weights" / "model.safetensors"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 1
    p.write_bytes(bytes(data))
    report = verify_model(str(model), KEYS)
    assert (report.outcome, report.exit_code, report.changed) == ("tampered", EXIT["tampered"], ["weights/model.safetensors"])
    with pytest.raises(VerificationError) as err:
        assert_verified(str(model), KEYS)
    assert err.value.code == "file_changed"


def test_added_file_symlink_and_fifo_are_refused(model: Path) -> None:
    (model / "tokenizer" / "evil.py").write_text("import os\n")
    os.symlink("/etc/hostname", model / "outside.json")
    os.mkfifo(model / "pipe")
    report = verify_model(str(model), KEYS)
    codes = {(r.code, r.path) for r in report.reasons}
    assert ("file_extra", "tokenizer/evil.py") in codes
    assert ("symlink_refused", "outside.json") in codes
    assert ("special_file", "pipe") in codes
    assert report.exit_code == EXIT["tampered"]


def test_the_bundle_and_its_witness_proof_and_git_are_ignored(model: Path) -> None:
    (model / "model.sig.tlog-proof").write_text("c2sp.org/tlog-proof@v1\n")
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert verify_model(str(model), KEYS).verified


def test_a_single_file_with_its_bundle_beside_it(tmp_path: Path) -> None:
    f = tmp_path / "ckpt.safetensors"
    f.write_bytes(b"x" * 1000)
    (tmp_path / "ckpt.safetensors.sig").write_text(json.dumps(sign({"ckpt.safetensors": b"x" * 1000})))
    assert verify_model(str(f), KEYS).verified
    f.write_bytes(b"y" * 1000)
    assert verify_model(str(f), KEYS).changed == ["ckpt.safetensors"]


def test_unsafe_names_in_the_bundle_are_refused_before_any_file_is_opened(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    bundle = sign({"../../etc/passwd": b""})
    (tmp_path / "m" / "model.sig").write_text(json.dumps(bundle))
    report = verify_model(str(tmp_path / "m"), KEYS)
    assert [r.code for r in report.reasons] == ["resource_unsafe"]
    assert report.exit_code == EXIT["tampered"]


def test_expect_pins_the_release(model: Path) -> None:
    assert verify_model(str(model), KEYS, expect="acme/model").verified
    report = verify_model(str(model), KEYS, expect="acme/model@2.0")
    assert [r.code for r in report.reasons] == ["release_unexpected"]


def test_hf_snapshot_links_only_into_blobs(tmp_path: Path) -> None:
    repo = tmp_path / "hub" / "models--acme--tiny"
    snap = repo / "snapshots" / ("c" * 40)
    (repo / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    for name, data in {"model.safetensors": b"w" * 100, "config.json": b"{}\n"}.items():
        blob = hashlib.sha256(data).hexdigest()
        (repo / "blobs" / blob).write_bytes(data)
        os.symlink(f"../../blobs/{blob}", snap / name)
    bundle = tmp_path / "tiny.sig"
    bundle.write_text(json.dumps(sign({"model.safetensors": b"w" * 100, "config.json": b"{}\n"})))
    report = verify_model(str(snap), KEYS, bundle=str(bundle))
    assert report.verified and report.layout == "hf-snapshot", report.reasons
    os.unlink(snap / "config.json")
    os.symlink("/etc/hostname", snap / "config.json")
    report = verify_model(str(snap), KEYS, bundle=str(bundle))
    assert ("symlink_outside", "config.json") in {(r.code, r.path) for r in report.reasons}


def test_hashing_on_threads_gives_hashlib_digests_and_shows_progress_on_a_terminal(model: Path) -> None:
    files = [ModelFile(n, str(model / n), len(d)) for n, d in FILES.items()]
    want = [hashlib.sha256(d).hexdigest() for d in FILES.values()]
    assert hash_files(files, threads=1, progress=None) == want
    assert hash_files(files, threads=4, progress=None) == want

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    hash_files(files, progress=tty)
    hash_files(files, progress=pipe)
    assert "hashing:" in tty.getvalue() and pipe.getvalue() == ""


def test_cli_exit_codes(model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pem = tmp_path / "release.pem"
    pem.write_text(PEM)
    assert main(["verify", str(model), "--key", str(pem)]) == 0
    assert "verified:" in capsys.readouterr().out
    assert main(["verify", str(model)]) == EXIT["usage"]  # no trust given
    assert main(["verify", str(tmp_path / "nope"), "--key", str(pem)]) == EXIT["io"]
    assert main(["verify", str(model), "--key", str(tmp_path / "missing.pem")]) == EXIT["io"]
    other = tmp_path / "other.pem"
    other.write_text(Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    assert main(["verify", str(model), "--key", str(other)]) == EXIT["untrusted"]
    assert main(["verify", str(model), "--key", str(pem), "--proof", "x"]) == EXIT["usage"]
    assert main(["verify", str(model), "--key", str(pem), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["outcome"] == "verified"
    assert main(["scan", str(model)]) == EXIT["ok"]
    assert main(["bogus"]) == EXIT["usage"]
