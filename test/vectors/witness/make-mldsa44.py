#!/usr/bin/env python3
"""ML-DSA-44 witness cosignatures for the witness vectors, made by pyca/cryptography (>= 47).

Run once; the output is committed as mldsa44-pyca.json and checked by every test run, so that
the TypeScript verifier (and the Python client) are held to cosignatures they did not make:

    python3 make-mldsa44.py ORIGIN SIZE ROOT_BASE64 TIMESTAMP COUNT > mldsa44-pyca.json

make-cases.ts prints the exact command when the world's later checkpoint changes. The signed
message is C2SP tlog-cosignature's subtree/v1 struct (start 0, end = tree size), signed with
pure ML-DSA-44 and an empty context, as transparency-dev/formats does.
"""
import base64
import hashlib
import json
import struct
import sys

import cryptography
from cryptography.hazmat.primitives.asymmetric import mldsa


def u8_prefixed(text: str) -> bytes:
    data = text.encode()
    assert 1 <= len(data) <= 255
    return bytes([len(data)]) + data


def subtree_message(name: str, timestamp: int, origin: str, size: int, root: bytes) -> bytes:
    return (b"subtree/v1\n\x00" + u8_prefixed(name) + struct.pack(">Q", timestamp) + u8_prefixed(origin)
            + struct.pack(">QQ", 0, size) + root)


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + b"\x06" + public).digest()[:4]


def main() -> None:
    origin, size, root_b64, timestamp, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    root = base64.b64decode(root_b64, validate=True)
    witnesses = []
    for i in range(count):
        name = f"pq-witness-{i}.example.org"
        key = mldsa.MLDSA44PrivateKey.generate()
        public = key.public_key().public_bytes_raw()
        kid = key_id(name, public)
        vkey = f"{name}+{kid.hex()}+" + base64.b64encode(b"\x06" + public).decode()
        signature = key.sign(subtree_message(name, timestamp, origin, size, root))
        line = f"\u2014 {name} " + base64.b64encode(kid + struct.pack(">Q", timestamp) + signature).decode()
        witnesses.append({"vkey": vkey, "line": line})
    json.dump({"madeBy": f"pyca/cryptography {cryptography.__version__}", "origin": origin, "size": size, "root": root_b64, "timestamp": timestamp, "witnesses": witnesses}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
