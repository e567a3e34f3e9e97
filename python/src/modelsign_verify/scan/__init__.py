"""The content check in pure Python: the same verdicts and finding codes as ``modelsign scan``
(src/core/scan/), from the same allowlist data, run over the chunks the hashing pass reads."""
from __future__ import annotations

from .allowlist import ALLOWLIST_TORCH_VERSION, ALLOWLIST_VERSION, is_allowed_global, resolve_global
from .classify import PICKLE_CAPABLE_EXTENSIONS, ContentCheck, check_content, read_ahead
from .verdict import UNSAFE, VERDICTS, ContentReport, Finding

#: Named in every report this checker makes (the TypeScript one is ``modelsign-scan``).
CHECKER = "modelsign-verify-scan"

__all__ = [
    "ALLOWLIST_TORCH_VERSION",
    "ALLOWLIST_VERSION",
    "CHECKER",
    "PICKLE_CAPABLE_EXTENSIONS",
    "UNSAFE",
    "VERDICTS",
    "ContentCheck",
    "ContentReport",
    "Finding",
    "check_content",
    "is_allowed_global",
    "read_ahead",
    "resolve_global",
]
