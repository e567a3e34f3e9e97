"""The keys a verifier trusts: a pinned key, a saved JWKS (GET /v1/keys), the rotation chain
walked from a pinned first key (GET /v1/keys/chain), and the log keys of a Sigstore trusted root
(GET /v1/trusted-root). The rules are those of src/core/keys (jwks.ts, key-chain.ts)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Dict, Iterable, List, Optional

from .crypto import ALGORITHMS, ED25519, PublicKey, is_well_formed_key, key_id, parse_jwk, parse_spki_der, signature_problem, verify_signature
from .dsse import pre_auth_encoding
from .encoding import from_base64, parse_json, utf8_text

KEY_PURPOSES = ("release", "log", "token")
KEY_STATUSES = ("pending", "active", "retired", "revoked")
KEY_LINK_PAYLOAD_TYPE = "application/vnd.modelsign.key-link+json"
KEY_LINK_TYPE = "https://modelsign.dev/key-link/v1"


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    key: PublicKey
    purpose: str = "release"
    status: str = "active"
    #: For a revoked key: signatures the log proves were made before this stay valid.
    compromised_at: Optional[datetime] = None

    @property
    def algorithm(self) -> str:
        return self.key.algorithm

    @property
    def public_key(self) -> bytes:
        return self.key.public_key


def parse_time(text: object) -> Optional[datetime]:
    """An ISO 8601 time as the service writes it (``2027-01-15T09:00:00.000Z``); None if unreadable."""
    if not isinstance(text, str):
        return None
    try:
        t = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


class KeySet:
    """Keys by kid (a bundle's hint), and the log keys (a Rekor v2 entry names its log by a log ID)."""

    def __init__(self, keys: Iterable[TrustedKey]) -> None:
        self._by_kid: Dict[str, TrustedKey] = {}
        for k in keys:
            self._by_kid[k.kid] = k

    def resolve(self, kid: str) -> Optional[TrustedKey]:
        return self._by_kid.get(kid)

    def log_keys(self) -> List[TrustedKey]:
        return [k for k in self._by_kid.values() if k.purpose == "log"]

    def keys(self) -> List[TrustedKey]:
        return list(self._by_kid.values())

    @property
    def has_log_key(self) -> bool:
        return bool(self.log_keys())


def trusted_keys_from_jwks(doc: object) -> Optional[List[TrustedKey]]:
    """The usable keys of a JWKS document, or None when it is not one. A key whose kid is not its
    own key's id is left out: a kid names the exact key bytes."""
    keys = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(keys, list):
        return None
    out: List[TrustedKey] = []
    for k in keys:
        key = parse_jwk(k) if isinstance(k, dict) else None
        if key is None or not isinstance(k, dict) or not isinstance(k.get("kid"), str) or key_id(key) != k["kid"]:
            continue
        purpose = k.get("purpose")
        status = k.get("status")
        out.append(
            TrustedKey(
                kid=k["kid"],
                key=key,
                purpose=purpose if purpose in KEY_PURPOSES else "release",
                status=status if status in KEY_STATUSES else "active",
                compromised_at=parse_time(k.get("compromisedAt")),
            )
        )
    return out


def pinned_key(key: PublicKey, purpose: str = "release") -> TrustedKey:
    return TrustedKey(kid=key_id(key), key=key, purpose=purpose, status="active")


class KeyChainError(Exception):
    """The chain document is malformed (chain_malformed), a link was altered (chain_link_invalid),
    or the pinned key is not in it (chain_pin_unknown)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _chain_keys(doc: dict[str, object]) -> Dict[str, TrustedKey]:
    listed = doc.get("keys")
    if not isinstance(listed, list):
        raise KeyChainError("chain_malformed", "the chain document needs `keys`")
    keys: Dict[str, TrustedKey] = {}
    for k in listed:
        key = parse_jwk(k)
        if (
            not isinstance(k, dict)
            or key is None
            or not isinstance(k.get("kid"), str)
            or key_id(key) != k["kid"]
            or k.get("status") not in KEY_STATUSES
            or k.get("purpose") not in ("release", "log")
        ):
            raise KeyChainError("chain_malformed", "a chain key needs kid, a public JWK of a known algorithm hashing to kid, purpose release|log and status")
        compromised = None
        if isinstance(k.get("compromisedAt"), str):
            compromised = parse_time(k["compromisedAt"])
            if compromised is None:
                raise KeyChainError("chain_malformed", f"bad compromisedAt for {k['kid']}")
        keys[k["kid"]] = TrustedKey(kid=k["kid"], key=key, purpose=k["purpose"], status=k["status"], compromised_at=compromised)
    return keys


def _introduced_key(linked: object) -> Optional[PublicKey]:
    if not isinstance(linked, dict):
        return None
    algorithm = linked.get("algorithm", ED25519)
    raw = from_base64(linked.get("publicKey"))
    if algorithm not in ALGORITHMS or raw is None:
        return None
    key = PublicKey(algorithm, raw)
    return key if is_well_formed_key(key) else None


def verify_key_chain(doc: object, pinned: PublicKey) -> List[TrustedKey]:
    """The keys a client that pinned ``pinned`` (a release key) may trust. A link counts only if
    its signer is already trusted, a release key and not revoked; a trusted signer's link that
    does not verify is an error; statuses in the document only restrict."""
    if not isinstance(doc, dict) or not isinstance(doc.get("links"), list):
        raise KeyChainError("chain_malformed", "the chain document needs `keys` and `links`")
    keys = _chain_keys(doc)
    pinned_kid = key_id(pinned)
    pin = keys.get(pinned_kid)
    if pin is None or pin.purpose != "release":
        raise KeyChainError("chain_pin_unknown", f"the pinned key {pinned_kid} is not a release key of this chain")
    trusted: Dict[str, TrustedKey] = {pinned_kid: replace(pin, key=pinned)}
    for i, link in enumerate(doc["links"]):
        if not isinstance(link, dict) or not isinstance(link.get("envelope"), dict) or not isinstance(link.get("signer"), str) or not isinstance(link.get("kid"), str):
            raise KeyChainError("chain_malformed", f"link {i} needs signer, kid and envelope")
        signer = trusted.get(link["signer"])
        if signer is None or signer.purpose != "release" or signer.status == "revoked":
            continue
        env = link["envelope"]
        sigs = env.get("signatures")
        sig = sigs[0] if isinstance(sigs, list) and len(sigs) == 1 and isinstance(sigs[0], dict) else None
        payload = from_base64(env.get("payload"))
        signature = from_base64(sig.get("sig")) if sig is not None else None
        if env.get("payloadType") != KEY_LINK_PAYLOAD_TYPE or payload is None or signature is None or signature_problem(signer.algorithm, signature) is not None:
            raise KeyChainError("chain_link_invalid", f"link {i} (introducing {link['kid']}) is not a DSSE envelope with one {signer.algorithm} signature")
        if not verify_signature(signer.key, signature, pre_auth_encoding(KEY_LINK_PAYLOAD_TYPE, payload)):
            raise KeyChainError("chain_link_invalid", f"link {i} (introducing {link['kid']}) is not signed by {signer.kid}")
        try:
            statement = parse_json(utf8_text(payload))
        except ValueError:
            raise KeyChainError("chain_link_invalid", f"link {i} does not carry a JSON statement") from None
        introduced = _introduced_key(statement.get("key")) if isinstance(statement, dict) else None
        signer_kid = statement.get("signer", {}).get("kid") if isinstance(statement, dict) and isinstance(statement.get("signer"), dict) else None
        if (
            not isinstance(statement, dict)
            or statement.get("_type") != KEY_LINK_TYPE
            or signer_kid != signer.kid
            or introduced is None
            or key_id(introduced) != link["kid"]
            or statement["key"].get("kid") != link["kid"]
            or statement.get("purpose") not in ("release", "log")
        ):
            raise KeyChainError("chain_link_invalid", f"link {i}'s statement does not introduce {link['kid']} with its signer {signer.kid}")
        known = keys.get(link["kid"])
        trusted[link["kid"]] = TrustedKey(
            kid=link["kid"],
            key=introduced,
            purpose=statement["purpose"],
            # A listed key has the status the document gives it, which can only make it less trusted.
            status=known.status if known else "active",
            compromised_at=known.compromised_at if known else None,
        )
    return list(trusted.values())


def log_keys_from_trusted_root(doc: object, now: Optional[datetime] = None) -> List[TrustedKey]:
    """The log keys of a Sigstore trusted root (GET /v1/trusted-root). A key whose validity has
    ended is taken as retired: it keeps verifying checkpoints it signed (the service ends a revoked
    key's window at its compromise, which a trusted root cannot say; use a JWKS for revocations)."""
    tlogs = doc.get("tlogs") if isinstance(doc, dict) else None
    if not isinstance(tlogs, list):
        raise ValueError("a trusted root has a `tlogs` list")
    out: List[TrustedKey] = []
    for t in tlogs:
        pk = t.get("publicKey") if isinstance(t, dict) else None
        der = from_base64(pk.get("rawBytes")) if isinstance(pk, dict) else None
        key = parse_spki_der(der) if der is not None else None
        if key is None or key.algorithm != ED25519 or not isinstance(pk, dict):
            continue
        valid_for = pk.get("validFor") if isinstance(pk.get("validFor"), dict) else {}
        end = parse_time(valid_for.get("end")) if isinstance(valid_for, dict) else None
        out.append(TrustedKey(kid=key_id(key), key=key, purpose="log", status="retired" if end is not None else "active"))
    return out
