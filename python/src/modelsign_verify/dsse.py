"""DSSE's pre-authentication encoding: what is actually signed, binding the payload type."""
from __future__ import annotations

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pre_auth_encoding(payload_type: str, payload: bytes) -> bytes:
    """"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal bytes."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)
