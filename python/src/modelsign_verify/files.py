"""What a model is on disk (src/cli/model-files.ts): a folder of files, or a single file. Names
must be safe manifest paths; symlinks are refused unless allowed, and then only to regular files
inside the model; FIFOs, sockets and devices are refused. A Hugging Face hub cache snapshot
(``models--ORG--NAME/snapshots/REV``, each file a link into the repository's ``blobs/``) is
followed under its own rule: a link only onto a regular file directly in that repository's
blobs/, with no other link on the way. Nothing is opened here."""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from typing import List, Optional

from .manifest import code_point_key, escape_name, is_ignored_path, path_problem
from .witness import PROOF_FILE_NAME

HF_LOCAL_DIR_STATE = ".cache/huggingface"
#: What the OpenSSF model_signing tool ignores in a folder by default, the bundle and its witness proof.
DEFAULT_IGNORE_PATHS = (".git", ".gitattributes", ".github", ".gitignore", "model.sig", PROOF_FILE_NAME, HF_LOCAL_DIR_STATE)
_HF_SNAPSHOT = re.compile(r"(.*/(?:models|datasets|spaces)--[^/]+)/snapshots/[0-9a-f]{40}")
_HF_BLOB = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class ModelPathError(Exception):
    pass


@dataclass
class ModelFile:
    path: str
    abs: str
    size: int


@dataclass
class FileProblem:
    code: str
    path: str
    message: str


@dataclass
class ModelListing:
    kind: str
    root: str
    files: List[ModelFile] = field(default_factory=list)
    problems: List[FileProblem] = field(default_factory=list)
    layout: str = "plain"
    hf_repository: Optional[str] = None


def _hf_repository_of(real_root: str) -> Optional[str]:
    m = _HF_SNAPSHOT.fullmatch(real_root)
    if m is None:
        return None
    try:
        return m.group(1) if stat.S_ISDIR(os.lstat(os.path.join(m.group(1), "blobs")).st_mode) else None
    except OSError:
        return None


def list_model(target: str, allow_symlinks: bool, ignore_paths: List[str]) -> ModelListing:
    root = os.path.abspath(target)
    try:
        info = os.lstat(root)
    except FileNotFoundError:
        raise ModelPathError(f"{target}: no such file or folder") from None
    except OSError as err:
        raise ModelPathError(f"{target}: {err.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        if not allow_symlinks:
            raise ModelPathError(f"{target} is a symlink; pass --allow-symlinks to follow it")
        info = os.stat(root)
    if stat.S_ISREG(info.st_mode):
        name = os.path.basename(root)
        problem = path_problem(name)
        listing = ModelListing("file", os.path.dirname(root))
        if problem:
            listing.problems.append(FileProblem("path_unsafe", name, f"{escape_name(name)} {problem}"))
        else:
            listing.files.append(ModelFile(name, root, info.st_size))
        return listing
    if not stat.S_ISDIR(info.st_mode):
        raise ModelPathError(f"{target} is neither a file nor a folder")
    real_root = os.path.realpath(root)
    hf_repo = _hf_repository_of(real_root)
    real_blobs = os.path.realpath(os.path.join(hf_repo, "blobs")) if hf_repo else None
    local_dir = not hf_repo and os.path.isdir(os.path.join(root, HF_LOCAL_DIR_STATE)) and not os.path.islink(os.path.join(root, HF_LOCAL_DIR_STATE))
    listing = ModelListing("folder", root, layout="hf-snapshot" if hf_repo else "hf-local-dir" if local_dir else "plain", hf_repository=hf_repo)

    def refuse(code: str, rel: str, message: str) -> None:
        listing.problems.append(FileProblem(code, rel, message))

    def follow_blob_link(abs_path: str, rel: str) -> None:
        assert hf_repo is not None and real_blobs is not None
        link = os.readlink(abs_path)
        lexical = os.path.normpath(os.path.join(real_root, os.path.dirname(rel), link))
        name = os.path.basename(lexical)
        if os.path.dirname(lexical) != os.path.join(hf_repo, "blobs") or not _HF_BLOB.fullmatch(name):
            return refuse("symlink_outside", rel, f"{escape_name(rel)} links to {escape_name(link)}, which is not a blob of this repository ({os.path.basename(hf_repo)}/blobs/<hash>)")
        try:
            blob = os.lstat(lexical)
        except OSError:
            return refuse("symlink_outside", rel, f"{escape_name(rel)} is a dangling link ({escape_name(link)})")
        if stat.S_ISLNK(blob.st_mode):
            return refuse("symlink_outside", rel, f"{escape_name(rel)} links to {escape_name(link)}, itself a link: a chain of links is refused")
        if not stat.S_ISREG(blob.st_mode):
            return refuse("special_file", rel, f"{escape_name(rel)} links to {escape_name(link)}, which is not a regular file")
        real = os.path.realpath(abs_path)
        if real != os.path.join(real_blobs, name):
            return refuse("symlink_outside", rel, f"{escape_name(rel)} resolves through another link to {escape_name(real)}")
        listing.files.append(ModelFile(rel, real, blob.st_size))
        return None

    def walk(folder: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError as err:
            raise ModelPathError(f"cannot read folder {os.path.join(target, prefix)}: {err.strerror}") from None
        for entry in entries:
            rel = f"{prefix}/{entry.name}" if prefix else entry.name
            if is_ignored_path(rel, ignore_paths):
                continue
            unsafe = path_problem(rel)
            if unsafe:
                refuse("path_unsafe", rel, f"{escape_name(rel)} {unsafe}")
                continue
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                walk(entry.path, rel)
            elif stat.S_ISREG(mode):
                listing.files.append(ModelFile(rel, entry.path, entry.stat(follow_symlinks=False).st_size))
            elif stat.S_ISLNK(mode) and hf_repo:
                follow_blob_link(entry.path, rel)
            elif stat.S_ISLNK(mode):
                if not allow_symlinks:
                    refuse("symlink_refused", rel, f"{rel} is a symlink (pass --allow-symlinks to accept links inside the model)")
                    continue
                real = os.path.realpath(entry.path)
                if not os.path.exists(real):
                    refuse("symlink_outside", rel, f"{rel} is a dangling symlink")
                    continue
                if real != real_root and not real.startswith(real_root + os.sep):
                    refuse("symlink_outside", rel, f"{rel} points outside the model ({real})")
                    continue
                resolved = os.stat(real)
                if not stat.S_ISREG(resolved.st_mode):
                    refuse("special_file", rel, f"{rel} links to something that is not a regular file")
                    continue
                listing.files.append(ModelFile(rel, real, resolved.st_size))
            else:
                refuse("special_file", rel, f"{rel} is not a regular file (FIFO, socket or device)")

    walk(root, "")
    listing.files.sort(key=lambda f: code_point_key(f.path))
    return listing


def default_bundle_path(target: str) -> str:
    """``model.sig`` inside a folder, ``FILE.sig`` beside a file."""
    return os.path.join(target, "model.sig") if os.path.isdir(target) else f"{target}.sig"
