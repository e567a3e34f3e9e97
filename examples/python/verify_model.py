#!/usr/bin/env python3
"""Loader guard: verify a model file or folder against its modelsign bundle before loading it.

Uses only the Python standard library and pyca/cryptography. It checks, against a release key
you pinned (the PEM from GET /v1/keys/{kid}):

* the bundle is a modelsign/OMS bundle naming that key (publicKey.hint = SHA-256 of the PEM text),
* the signature over the DSSE pre-authentication encoding: Ed25519, or ECDSA P-256 with SHA-256
  (DER; a malformed DER value, an r‖s pair or a signature of the other algorithm is refused as
  malformed, not merely as not verifying),
* every resource name is a safe relative path (checked before any file is opened),
* the subject digest is SHA-256 over the file digests in order,
* every file: none changed, missing or extra (symlinks and special files are refused).

It does not check the transparency-log entry, the rotation chain or witnesses: the package
`modelsign-verify` (python/ in the repository) does, with the same reason codes as the CLI.

Content check: a valid signature says who released a file, not that loading it is safe. With
`check_content=True` (the default of `open_verified`), every file also goes through modelsign's
content check (`modelsign scan --json`, the same code as the CLI, so the verdicts are the CLI's),
and a file that can run code when loaded (a pickle importing anything off the allowlist) or is
malformed is refused (code `content_code_capable` / `content_malformed`) unless
`allow_unsafe_content=True`. The command is `MODELSIGN_CMD` (default `npx --no-install modelsign`).

Check-then-load: `open_verified(path, key)` opens the file once, hashes through that descriptor,
checks it, and returns the open file positioned at 0 for the loader (torch.load accepts a file
object). A swap of the path after the check (rename, symlink) changes nothing: the loader reads
the checked file. The scan reads the file by path; its SHA-256 must equal the descriptor's, so
it judged the same bytes. The window that remains: someone who can write to the file itself
(not only to its folder) changing it in place while it loads; `finish_load(f)` re-checks
size and mtime after the load and raises if they moved, and `modelsign audit` reports who can
write there.

In an application (an image-generation app's model manager, say):

    from verify_model import verify_model, ModelVerificationError
    try:
        verify_model("models/sdxl.safetensors", "trusted/modelsign-release.pem")
    except ModelVerificationError as e:
        raise SystemExit(f"refusing to load: {e}")
    load_checkpoint("models/sdxl.safetensors")

    # or, to hand the loader exactly the bytes that were checked:
    f = open_verified("models/sd15.ckpt", "trusted/modelsign-release.pem")
    state = torch.load(f, map_location="cpu")
    finish_load(f)

From a shell: python3 verify_model.py PATH --key PEM [--bundle FILE] [--scan] [--allow-unsafe-content]
Exit codes: 0 verified, 1 refused ("refused: PATH: [code] reason", the code as in modelsign's
verdicts), 2 usage or unreadable input.
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import shlex
import stat
import subprocess
import sys
import unicodedata

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_pem_public_key

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
CHUNK = 4 * 1024 * 1024


P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class ModelVerificationError(Exception):
    """The model must not be loaded: the message says why (and names the file); `code` is stable."""

    def __init__(self, message, code="refused"):
        super().__init__(message)
        self.code = code


def _signature_problem(key, signature):
    """Why `signature` cannot be a signature by `key` (its encoding), or None."""
    if isinstance(key, Ed25519PublicKey):
        return None if len(signature) == 64 else f"an Ed25519 signature is 64 bytes, got {len(signature)}"
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        return "not a DER ECDSA signature"
    # Re-encoding catches trailing bytes and non-minimal lengths, which the parser may accept.
    if encode_dss_signature(r, s) != signature:
        return "not a canonical DER ECDSA signature"
    if not (0 < r < P256_ORDER and 0 < s < P256_ORDER):
        return "r or s is out of range"
    return None


def _b64(text, what):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ModelVerificationError(f"{what} is not base64")


# Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt) beyond the Cf, Zl
# and Zp categories: characters fonts draw as nothing, like U+3164 HANGUL FILLER.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)


def _invisible(c):
    cp = ord(c)
    return unicodedata.category(c) in ("Cf", "Zl", "Zp") or any(lo <= cp <= hi for lo, hi in _DEFAULT_IGNORABLE)


def _path_problem(name):
    if not isinstance(name, str) or not name:
        return "is empty or not a string"
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in name):
        return "contains NUL or control characters"
    if unicodedata.normalize("NFC", name) != name:
        return "is not in NFC"
    if name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        return "is not a relative POSIX path"
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            return "has an empty, . or .. segment"
    return None


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                return digest.hexdigest()
            digest.update(chunk)


UNSAFE_VERDICTS = ("code-capable", "malformed")


def scan_content(path):
    """modelsign's content check of a file or folder: {manifest path: {sha256, verdict, format, findings}}."""
    command = shlex.split(os.environ.get("MODELSIGN_CMD", "npx --no-install modelsign"))
    try:
        done = subprocess.run(command + ["scan", "--json", os.fspath(path)], capture_output=True, text=True, timeout=24 * 3600)
    except OSError as e:
        raise ModelVerificationError(f"cannot run the content check ({' '.join(command)} scan): {e}", "content_unchecked")
    try:
        report = json.loads(done.stdout)
        return {f["path"]: f for f in report["files"]}
    except (ValueError, KeyError, TypeError):
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ModelVerificationError(f"the content check did not run: {detail[-1] if detail else f'exit {done.returncode}'}", "content_unchecked")


def content_problem(name, result, allow_unsafe_content=False):
    """A refusal for an unsafe verdict, or None."""
    if result["verdict"] not in UNSAFE_VERDICTS or allow_unsafe_content:
        return None
    reasons = "; ".join(f["message"] for f in result.get("findings", [])[:3])
    return ModelVerificationError(f"{name}: {result['verdict']}: {reasons}", "content_" + result["verdict"].replace("-", "_"))


def _check_scanned(scanned, expected_digests, allow_unsafe_content):
    """Every file's verdict, on exactly the bytes whose digests were checked."""
    for name, digest in expected_digests.items():
        result = scanned.get(name)
        if result is None or result["sha256"] != digest:
            raise ModelVerificationError(f"{name}: the file changed while it was being checked", "file_changed")
        problem = content_problem(name, result, allow_unsafe_content)
        if problem:
            raise problem


def _ignored(name, ignore_paths):
    return any(name == p or name.startswith(p + "/") for p in ignore_paths)


def _list_files(root, ignore_paths):
    """Relative POSIX path -> absolute path of every regular file under root."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
        for d in list(dirnames):
            rel = prefix + d
            if _ignored(rel, ignore_paths):
                dirnames.remove(d)
            elif os.path.islink(os.path.join(dirpath, d)):
                raise ModelVerificationError(f"{rel} is a symlink")
        for name in filenames:
            rel = prefix + name
            if _ignored(rel, ignore_paths):
                continue
            full = os.path.join(dirpath, name)
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                raise ModelVerificationError(f"{rel} is a symlink")
            if not stat.S_ISREG(mode):
                raise ModelVerificationError(f"{rel} is not a regular file")
            found[rel] = full
    return found


def verify_model(path, key_pem_path, bundle_path=None, check_content=False, allow_unsafe_content=False):
    """Raises ModelVerificationError unless `path` is exactly what the bundle signs (and, with
    check_content, nothing in it can run code when loaded or is malformed)."""
    statement = _verified_statement(path, key_pem_path, bundle_path)
    path = os.fspath(path)
    is_dir = os.path.isdir(path)
    resources = statement["predicate"]["resources"]
    ignore_paths = (statement["predicate"].get("serialization") or {}).get("ignore_paths") or []
    if is_dir:
        present = _list_files(path, ignore_paths)
    else:
        if os.path.islink(path) or not os.path.isfile(path):
            raise ModelVerificationError(f"{path} is a symlink or not a regular file")
        present = {os.path.basename(path): path}
    signed = {r["name"]: r["digest"] for r in resources}
    problems = []
    for name, digest in signed.items():
        if name not in present:
            problems.append(f"{name}: missing")
        elif _sha256_file(present[name]) != digest:
            problems.append(f"{name}: changed")
    for name in sorted(set(present) - set(signed)):
        problems.append(f"{name}: not part of the signed release")
    if problems:
        raise ModelVerificationError("; ".join(problems))
    if check_content:
        _check_scanned(scan_content(path), signed, allow_unsafe_content)
    return statement["subject"][0]["name"]


def open_verified(path, key_pem_path, bundle_path=None, check_content=True, allow_unsafe_content=False):
    """Opens one checkpoint file, checks it through that descriptor (signature, digest, content)
    and returns the open binary file at offset 0, for the loader. Call finish_load(f) after loading."""
    statement = _verified_statement(path, key_pem_path, bundle_path)
    path = os.fspath(path)
    name = os.path.basename(path)
    signed = {r["name"]: r["digest"] for r in statement["predicate"]["resources"]}
    if list(signed) != [name]:
        raise ModelVerificationError(f"the bundle signs {sorted(signed)}, not the single file {name}")
    f, digest = _open_hashed(path)
    try:
        if digest != signed[name]:
            raise ModelVerificationError(f"{name}: changed", "file_changed")
        if check_content:
            _check_scanned(scan_content(path), {name: digest}, allow_unsafe_content)
        f.seek(0)
        return f
    except BaseException:
        f.close()
        raise


def open_scanned(path, allow_unsafe_content=False):
    """An unsigned file, open at offset 0 after the content check alone (on the bytes the
    descriptor holds: the scan's SHA-256 must equal the descriptor's). Call finish_load(f) after loading."""
    path = os.fspath(path)
    f, digest = _open_hashed(path)
    try:
        _check_scanned(scan_content(path), {os.path.basename(path): digest}, allow_unsafe_content)
        f.seek(0)
        return f
    except BaseException:
        f.close()
        raise


def _open_hashed(path):
    """The open file and the SHA-256 of what it holds, read through its descriptor."""
    f = open(path, "rb")
    try:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ModelVerificationError(f"{path} is not a regular file", "special_file")
        digest = hashlib.sha256()
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
        f.modelsign_stat = (info.st_size, info.st_mtime_ns, info.st_ino)
        return f, digest.hexdigest()
    except BaseException:
        f.close()
        raise


def finish_load(f):
    """After loading from open_verified's file: raises if the file was written in place meanwhile."""
    info = os.fstat(f.fileno())
    if (info.st_size, info.st_mtime_ns, info.st_ino) != f.modelsign_stat:
        raise ModelVerificationError(f"{f.name} was modified while it was being loaded", "file_changed")


def _verified_statement(path, key_pem_path, bundle_path=None):
    """The statement of the bundle, after the signature and every resource name are checked."""
    path = os.fspath(path)
    is_dir = os.path.isdir(path)
    if bundle_path is None:
        bundle_path = os.path.join(path, "model.sig") if is_dir else path + ".sig"
    if not os.path.lexists(path):
        raise ModelVerificationError(f"{path}: no such file or folder")
    try:
        with open(bundle_path, "rb") as f:
            bundle = json.load(f)
    except FileNotFoundError:
        raise ModelVerificationError(f"no bundle at {bundle_path}: the model is unsigned")
    except (OSError, ValueError) as e:
        raise ModelVerificationError(f"cannot read the bundle {bundle_path}: {e}")

    with open(key_pem_path, "rb") as f:
        pem = f.read()
    key = load_pem_public_key(pem)
    is_p256 = isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    if not isinstance(key, Ed25519PublicKey) and not is_p256:
        raise ModelVerificationError(f"{key_pem_path} is not an Ed25519 or ECDSA P-256 public key", "key_unknown")
    kid = hashlib.sha256(pem).hexdigest()

    if not isinstance(bundle, dict) or bundle.get("mediaType") != BUNDLE_MEDIA_TYPE:
        raise ModelVerificationError("not a modelsign bundle (media type)")
    hint = ((bundle.get("verificationMaterial") or {}).get("publicKey") or {}).get("hint")
    if hint != kid:
        raise ModelVerificationError(f"signed by key {hint}, not the pinned key {kid}", "key_unknown")
    envelope = bundle.get("dsseEnvelope") or {}
    signatures = envelope.get("signatures") or []
    if envelope.get("payloadType") != PAYLOAD_TYPE or len(signatures) != 1:
        raise ModelVerificationError("the envelope is not one in-toto statement with one signature")
    payload = _b64(envelope.get("payload"), "the payload")
    signature = _b64(signatures[0].get("sig"), "the signature")
    pae = b"DSSEv1 %d %s %d %s" % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(), len(payload), payload)
    problem = _signature_problem(key, signature)
    if problem:
        raise ModelVerificationError(f"the signature is malformed for the pinned key: {problem}", "signature_malformed")
    try:
        if is_p256:
            key.verify(signature, pae, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, pae)
    except InvalidSignature:
        raise ModelVerificationError("the signature does not verify with the pinned key", "signature_invalid")

    statement = json.loads(payload)
    if statement.get("predicateType") != PREDICATE_TYPE or len(statement.get("subject") or []) != 1:
        raise ModelVerificationError("the statement is not an OMS v1.0 statement with one subject")
    resources = statement["predicate"]["resources"]
    # Every name is checked before any model file is opened.
    for r in resources:
        name = r.get("name")
        hidden = [c for c in name if _invisible(c)] if isinstance(name, str) else []
        if hidden:
            # ascii() escapes them: the message never displays a name as another.
            raise ModelVerificationError(
                f"resource name {ascii(name)} holds an invisible or bidirectional format character (U+{ord(hidden[0]):04X})",
                code="invisible_character",
            )
        problem = _path_problem(name)
        if problem:
            raise ModelVerificationError(f"unsafe resource name {ascii(name)}: {problem}")
    digests = b"".join(bytes.fromhex(r["digest"]) for r in resources)
    if hashlib.sha256(digests).hexdigest() != statement["subject"][0]["digest"]["sha256"]:
        raise ModelVerificationError("the subject digest does not match the resources")
    return statement


def main(argv=None):
    parser = argparse.ArgumentParser(description="Verify a model against its modelsign bundle before loading it.")
    parser.add_argument("path")
    parser.add_argument("--key", required=True, help="the pinned release key (PEM)")
    parser.add_argument("--bundle", help="the bundle (default: model.sig in a folder, FILE.sig beside a file)")
    parser.add_argument("--scan", action="store_true", help="also run the content check (modelsign scan; MODELSIGN_CMD)")
    parser.add_argument("--allow-unsafe-content", action="store_true", help="report code-capable or malformed files, do not refuse them")
    args = parser.parse_args(argv)
    try:
        release = verify_model(args.path, args.key, args.bundle, check_content=args.scan, allow_unsafe_content=args.allow_unsafe_content)
    except ModelVerificationError as e:
        print(f"refused: {args.path}: [{e.code}] {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"verified: {args.path} is {release}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
