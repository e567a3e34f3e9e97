"""``modelsign-verify``: fixed subcommands, as the Node CLI has them.

    modelsign-verify verify PATH (--keys JWKS | --key PEM [--chain FILE] | --server URL)
                                 [--trusted-root FILE] [--log-key PEM] [--bundle FILE]
                                 [--expect NS/NAME[@VERSION]] [--allow-symlinks]
                                 [--witness-policy FILE [--proof FILE]] [--allow-unsafe-content] [--json]
    modelsign-verify fetch (keys | chain | trusted-root | bundle NS/NAME@VERSION) --server URL [-o FILE]
    modelsign-verify scan PATH [--allow-symlinks] [--json]

Exit codes: 0 verified (scan: nothing code-capable or malformed), 1 tampered, 2 usage, 3
untrusted or revoked key, 4 path or bundle unreadable, 5 service unreachable, 8 (scan) a file can
run code when loaded or is malformed (the Node CLI's codes for the same outcomes).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Dict, List, Optional

from . import __version__
from .crypto import PublicKey, key_id, parse_spki_pem
from .encoding import parse_json
from .keys import KeyChainError, KeySet, TrustedKey, log_keys_from_trusted_root, pinned_key, trusted_keys_from_jwks, verify_key_chain
from .files import DEFAULT_IGNORE_PATHS, ModelPathError, list_model
from .hashing import hash_and_check_files
from .model import EXIT, describe, describe_content, verify_model
from .note import TlogError
from .online import ServiceError, bundle_path, fetch_json, fetch_text
from .reasons import MLDSAUnavailableError
from .scan import ALLOWLIST_TORCH_VERSION, ALLOWLIST_VERSION, CHECKER
from .witness import WitnessPolicy, parse_witness_policy


class CliFailure(Exception):
    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _read(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise CliFailure(EXIT["io"], f"cannot read {what} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise CliFailure(EXIT["io"], f"cannot read {what} {path}: {err}") from None


def _json_file(path: str, what: str) -> object:
    try:
        return parse_json(_read(path, what))
    except ValueError:
        raise CliFailure(EXIT["usage"], f"{path} is not JSON") from None


def _pem(path: str, what: str) -> PublicKey:
    key = parse_spki_pem(_read(path, what))
    if key is None:
        raise CliFailure(EXIT["usage"], f"{path} is not a public key in PEM (SPKI) of a known algorithm")
    return key


def _online(call: "object", *args: str) -> object:
    try:
        return call(*args)  # type: ignore[operator]
    except ServiceError as err:
        raise CliFailure(EXIT["service"], str(err)) from None
    except ValueError as err:
        raise CliFailure(EXIT["usage"], str(err)) from None


def _from_jwks(doc: object, source: str) -> List[TrustedKey]:
    keys = trusted_keys_from_jwks(doc)
    if keys is None:
        raise CliFailure(EXIT["usage"], f'{source} is not a JWKS ({{"keys": [...]}})')
    if not keys:
        raise CliFailure(EXIT["usage"], f"{source} holds no usable public key")
    return keys


def load_trust(args: argparse.Namespace) -> KeySet:
    server = args.server or (None if args.key or args.keys else os.environ.get("MODELSIGN_SERVER"))
    if args.key and args.keys:
        raise CliFailure(EXIT["usage"], "give one of --key or --keys")
    keys: List[TrustedKey]
    if args.key:
        pinned = _pem(args.key, "key")
        chain = _json_file(args.chain, "chain") if args.chain else _online(fetch_json, server, "/v1/keys/chain") if server else None
        if chain is not None:
            try:
                keys = verify_key_chain(chain, pinned)
            except KeyChainError as err:
                raise CliFailure(EXIT["untrusted"], f"the rotation chain from {key_id(pinned)[:12]} does not check out: {err}") from None
        else:
            keys = [pinned_key(pinned)]
    elif args.keys:
        keys = _from_jwks(_json_file(args.keys, "key set"), args.keys)
    elif server:
        keys = _from_jwks(_online(fetch_json, server, "/v1/keys"), f"{server}/v1/keys")
    else:
        raise CliFailure(EXIT["usage"], "say which keys to trust: --key PEM, --keys JWKS or --server URL")
    if args.trusted_root:
        try:
            logs = log_keys_from_trusted_root(_json_file(args.trusted_root, "trusted root"))
        except ValueError as err:
            raise CliFailure(EXIT["usage"], f"{args.trusted_root}: {err}") from None
        known = {k.kid for k in keys}
        keys += [k for k in logs if k.kid not in known]
    if args.log_key:
        log = pinned_key(_pem(args.log_key, "log key"), purpose="log")
        keys = [k for k in keys if k.kid != log.kid] + [log]
    return KeySet(keys)


def _witness_policy(args: argparse.Namespace) -> Optional[WitnessPolicy]:
    if args.witness_policy is None:
        if args.proof is not None:
            raise CliFailure(EXIT["usage"], "--proof is checked against a witness policy: give --witness-policy FILE with it")
        return None
    try:
        return parse_witness_policy(_read(args.witness_policy, "the witness policy"))
    except TlogError as err:
        raise CliFailure(EXIT["usage"], f"{args.witness_policy}: {err}") from None


def _cmd_verify(args: argparse.Namespace) -> int:
    policy = _witness_policy(args)
    keys = load_trust(args)
    report = verify_model(
        args.path,
        keys,
        bundle=args.bundle,
        allow_symlinks=args.allow_symlinks,
        expect=args.expect,
        witness_policy=policy,
        proof=args.proof,
        threads=args.threads,
        progress=sys.stderr,
        allow_unsafe_content=args.allow_unsafe_content,
    )
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        stream = sys.stdout if report.exit_code == 0 else sys.stderr
        stream.write("\n".join(describe(report)) + "\n")
    return report.exit_code


def _cmd_fetch(args: argparse.Namespace) -> int:
    server = args.server or os.environ.get("MODELSIGN_SERVER")
    if not server:
        raise CliFailure(EXIT["usage"], "give --server URL (or set MODELSIGN_SERVER)")
    paths = {"keys": "/v1/keys", "chain": "/v1/keys/chain", "trusted-root": "/v1/trusted-root"}
    if args.what == "bundle":
        if not args.release:
            raise CliFailure(EXIT["usage"], "fetch bundle takes NAMESPACE/NAME@VERSION")
        try:
            path = bundle_path(args.release)
        except ValueError as err:
            raise CliFailure(EXIT["usage"], str(err)) from None
    else:
        if args.release:
            raise CliFailure(EXIT["usage"], f"fetch {args.what} takes no release")
        path = paths[args.what]
    text = str(_online(fetch_text, server, path))
    try:
        json.loads(text)
    except ValueError:
        raise CliFailure(EXIT["service"], f"{server}{path} did not answer JSON") from None
    if args.out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return EXIT["ok"]
    tmp = f"{args.out}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.out)
    except OSError as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise CliFailure(EXIT["io"], f"cannot write {args.out}: {err.strerror}") from None
    sys.stderr.write(f"wrote {server.rstrip('/')}{path} to {args.out}\n")
    return EXIT["ok"]


def _cmd_scan(args: argparse.Namespace) -> int:
    """What each file of a model is, by its content, read once in the hashing pass (``modelsign scan``'s verdicts)."""
    try:
        listing = list_model(args.path, args.allow_symlinks, list(DEFAULT_IGNORE_PATHS))
    except ModelPathError as err:
        raise CliFailure(EXIT["io"], str(err)) from None
    if listing.problems:
        raise CliFailure(EXIT["io"], "; ".join(f"{p.path}: {p.message}" for p in listing.problems))
    try:
        results = hash_and_check_files(listing.files, progress=None if args.json else sys.stderr)
    except OSError as err:
        raise CliFailure(EXIT["io"], f"cannot read {err.filename}: {err.strerror}") from None
    unsafe = [f for f, (_, report) in zip(listing.files, results) if report.unsafe]
    exit_code = EXIT["unsafe"] if unsafe else EXIT["ok"]
    if args.json:
        files = [{"path": f.path, "sha256": digest, "size": f.size, **report.to_json()} for f, (digest, report) in zip(listing.files, results)]
        doc = {"path": args.path, "layout": listing.layout, "checker": CHECKER, "allowlist": ALLOWLIST_VERSION, "torch": ALLOWLIST_TORCH_VERSION, "ok": not unsafe, "exitCode": exit_code, "files": files}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return exit_code
    counts: Dict[str, int] = {}
    for f, (_, report) in zip(listing.files, results):
        counts[report.verdict] = counts.get(report.verdict, 0) + 1
        (sys.stderr if report.unsafe else sys.stdout).write(describe_content(f.path, report) + "\n")
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    tail = f"; {len(unsafe)} can run code when loaded or are malformed" if unsafe else ""
    sys.stdout.write(f"scan: {len(listing.files)} files: {summary}{tail}\n")
    return exit_code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelsign-verify", description="Verify model releases signed by modelsign, before loading them.", epilog=__doc__.split("\n\n", 2)[2] if __doc__ else None, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"modelsign-verify {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{verify,fetch,scan}")
    v = sub.add_parser("verify", help="verify a model folder or file against its bundle")
    v.add_argument("path")
    v.add_argument("--bundle", help="the bundle (default: model.sig in a folder, FILE.sig beside a file)")
    v.add_argument("--key", help="a pinned release key (PEM); with --chain or --server, rotations are followed from it")
    v.add_argument("--chain", help="a saved rotation chain (GET /v1/keys/chain)")
    v.add_argument("--keys", help="a saved key set (GET /v1/keys)")
    v.add_argument("--server", help="fetch the current keys (and chain) from this service")
    v.add_argument("--trusted-root", dest="trusted_root", help="a saved Sigstore trusted root: its log keys are trusted")
    v.add_argument("--log-key", dest="log_key", help="a log key (PEM) to trust")
    v.add_argument("--expect", help="the release the loader wants: NS/NAME or NS/NAME@VERSION")
    v.add_argument("--allow-symlinks", dest="allow_symlinks", action="store_true")
    v.add_argument("--allow-unsafe-content", dest="allow_unsafe_content", action="store_true", help="report files that can run code when loaded (or are malformed) instead of failing on them")
    v.add_argument("--witness-policy", dest="witness_policy", help="a C2SP tlog-policy: the witnesses and quorum you require")
    v.add_argument("--proof", help="the tlog-proof (default: the bundle's path + .tlog-proof)")
    v.add_argument("--threads", type=int, help="files hashed at once (default: the number of CPUs)")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.set_defaults(run=_cmd_verify)
    f = sub.add_parser("fetch", help="save a release's bundle, the keys, the rotation chain or the trusted root")
    f.add_argument("what", choices=["keys", "chain", "trusted-root", "bundle"])
    f.add_argument("release", nargs="?", help="NAMESPACE/NAME@VERSION (for bundle)")
    f.add_argument("--server", help="the modelsign service (default: MODELSIGN_SERVER)")
    f.add_argument("-o", "--out", help="write here (default: standard output)")
    f.set_defaults(run=_cmd_fetch)
    s = sub.add_parser("scan", help="what each file is by its content: data-only, allowlisted-pickle, code-capable, malformed or unknown")
    s.add_argument("path")
    s.add_argument("--allow-symlinks", dest="allow_symlinks", action="store_true")
    s.add_argument("--json", action="store_true", help="each file's sha256, verdict, format and findings as JSON")
    s.set_defaults(run=_cmd_scan)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) if exit_.code in (0, None) else EXIT["usage"]
    try:
        return int(args.run(args))
    except CliFailure as err:
        sys.stderr.write(f"modelsign-verify: {err}\n")
        return err.exit_code
    except MLDSAUnavailableError as err:
        sys.stderr.write(f"modelsign-verify: {err}\n")
        return EXIT["usage"]
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
