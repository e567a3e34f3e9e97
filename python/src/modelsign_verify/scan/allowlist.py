"""The globals a weights pickle may name and how names resolve, read from ``allowlist.json``: a
byte-for-byte copy of ``src/core/scan/pickle/allowlist.json``, which the TypeScript checker reads
(a test in the repository fails when the two differ). PyTorch's own ``weights_only`` allowlist for
a named torch release, the checkpoint extension, the modules torch blocks whatever a user allows,
and CPython's ``_compat_pickle`` mappings for protocol < 3."""
from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any, Dict, FrozenSet, List, Tuple

_DATA: Dict[str, Any] = json.loads(resources.files(__package__).joinpath("allowlist.json").read_text(encoding="utf-8"))

#: Recorded in every report, with the torch release below.
ALLOWLIST_VERSION: str = _DATA["version"]
ALLOWLIST_TORCH_VERSION: str = _DATA["torch"]["version"]
_TORCH: FrozenSet[str] = frozenset(_DATA["torch"]["allowed"])
_EXTENSION: FrozenSet[str] = frozenset(_DATA["extension"]["globals"])
_BLOCKED: FrozenSet[str] = frozenset(_DATA["torch"]["blockedModules"])
_IMPORT_MAPPING: Dict[str, str] = _DATA["names"]["importMapping"]
_NAME_MAPPING: Dict[str, List[str]] = _DATA["names"]["nameMapping"]
_DUNDER = re.compile(r"__\w+__", re.ASCII)  # JavaScript's \w, as the TypeScript rule reads


def is_allowed_global(module: str, name: str) -> bool:
    """Whether ``module.name`` (already resolved) is allowed; a name with attribute walks or dunders never is."""
    if "." in name or _DUNDER.search(name) or _DUNDER.search(module) or module in _BLOCKED:
        return False
    full = f"{module}.{name}"
    return full in _TORCH or full in _EXTENSION


def resolve_global(module: str, name: str, protocol: int) -> Tuple[str, str]:
    """The module and name find_class imports for a GLOBAL (protocol < 3 maps Python 2 names first)."""
    if protocol < 3:
        mapped = _NAME_MAPPING.get(f"{module} {name}")
        if mapped:
            return mapped[0], mapped[1]
        moved = _IMPORT_MAPPING.get(module)
        if moved:
            return moved, name
    return module, name
