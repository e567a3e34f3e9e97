"""Online helpers with the standard library only: a release's bundle, the key set, the rotation
chain and the trusted root, from a modelsign service. What they return is checked like any file:
fetching grants no trust (a JWKS from --server is trusted as the service is)."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

USER_AGENT = "modelsign-verify"
MAX_BYTES = 16 * 1024 * 1024


class ServiceError(Exception):
    """The service could not be reached, failed, or answered something that is not JSON."""


def _url(server: str, path: str) -> str:
    parsed = urllib.parse.urlparse(server)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"{server!r} is not an http(s) URL")
    return server.rstrip("/") + path


def fetch_text(server: str, path: str, timeout: float = 30.0) -> str:
    url = _url(server, path)
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as err:
        detail = ""
        try:
            problem = json.loads(err.read(64 * 1024))
            detail = f": {problem.get('code')}: {problem.get('detail') or problem.get('title')}" if isinstance(problem, dict) else ""
        except ValueError:
            pass
        raise ServiceError(f"{url} answered {err.code}{detail}") from None
    except (urllib.error.URLError, OSError) as err:
        raise ServiceError(f"{url} cannot be reached: {getattr(err, 'reason', err)}") from None
    if len(body) > MAX_BYTES:
        raise ServiceError(f"{url} answered more than {MAX_BYTES} bytes")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceError(f"{url} answered something that is not UTF-8") from None


def fetch_json(server: str, path: str) -> Any:
    text = fetch_text(server, path)
    try:
        return json.loads(text)
    except ValueError:
        raise ServiceError(f"{server.rstrip('/')}{path} did not answer JSON") from None


def bundle_path(release: str) -> str:
    """The bundle route of ``namespace/name@version``."""
    model, at, version = release.rpartition("@")
    namespace, slash, name = model.partition("/")
    if not at or not slash or not namespace or not name or not version:
        raise ValueError(f"{release!r} is not NAMESPACE/NAME@VERSION")
    q = urllib.parse.quote
    return f"/v1/models/{q(namespace, safe='')}/{q(name, safe='')}/versions/{q(version, safe='')}/bundle"


def fetch_bundle(server: str, release: str) -> str:
    return fetch_text(server, bundle_path(release))


def fetch_keys(server: str) -> Any:
    return fetch_json(server, "/v1/keys")


def fetch_chain(server: str) -> Any:
    return fetch_json(server, "/v1/keys/chain")


def fetch_trusted_root(server: str) -> Any:
    return fetch_json(server, "/v1/trusted-root")
