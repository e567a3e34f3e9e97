"""Loader protection: check a model file (signature, digest, content) and hand the loader the very
bytes that were checked, through the descriptor that was read.

One line in an application, before it loads models::

    import modelsign_verify.guard
    modelsign_verify.guard.install(keys="trusted/keys.json")   # or a KeySet; MODELSIGN_KEYS / MODELSIGN_KEY

hooks ``torch.load``, ``safetensors.torch.load_file``, ``safetensors.safe_open`` and the
``from_pretrained`` of transformers and diffusers: those already imported at once, the others the
moment they are imported (``install`` imports nothing: transformers alone costs seconds). Each load of a
path then:

1. finds the release: ``FILE.sig`` beside the file (per-file bundles, as Fooocus's folders need),
   else ``model.sig`` in the nearest folder above it (a folder release, a Hugging Face snapshot);
   none: ``unsigned``, refused unless ``allow_unsigned`` (then the content check alone decides);
2. lists it under the verifier's path rules (symlinks refused but a snapshot's links into its own
   ``blobs/``), opens each file once, and hashes and content-checks it through that descriptor in
   one read;
3. verifies the bundle (signature, trusted key, log entry, witnesses) against those digests;
   refuses code-capable or malformed content unless ``allow_unsafe_content``;
4. hands the loader the checked descriptor: a file object on it (``torch.load``), its
   ``/proc/self/fd/N`` name (``load_file``, ``safe_open``: they want a path; that name opens the
   checked file whatever the path holds now), or, for ``from_pretrained``, a private 0700 folder of
   links to the checked descriptors holding exactly the manifest's files, loaded offline. A path
   swapped after step 2 (rename, retargeted link) changes nothing: the loader reads what was checked;
5. after the load, hashes the descriptor again: bytes rewritten in place during the load (which
   a descriptor cannot prevent) are refused, after the loader has read them (THREAT-MODEL T1).

Where no ``/proc/self/fd`` or ``/dev/fd`` exists the check still runs but cannot be pinned to a
path: ``pin="refuse"`` (the default) refuses such loads, ``pin="warn"`` loads by the original path
with a warning. Every refusal raises :class:`ModelRefused` (a :class:`VerificationError`) with a
stable ``code``; hooks never swallow it, so an application's own "file corrupted" handling does
not see it as one (install after any wrapper that renames files it cannot load, as Fooocus's)."""
from __future__ import annotations

import contextlib
import importlib.abc
import json
import os
import shutil
import stat
import sys
import tempfile
import threading
import warnings
import weakref
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Dict, Iterator, List, Literal, Optional, Sequence, Set, Tuple, Union

from .crypto import parse_spki_pem
from .files import DEFAULT_IGNORE_PATHS, ModelPathError, list_model
from .hashing import hash_and_check_descriptors, hash_descriptor
from .keys import KeySet, pinned_key, trusted_keys_from_jwks
from .model import content_reason, read_bundle_file
from .reasons import UNTRUSTED_CODES, Reason, VerificationError
from .scan import ContentReport
from .verify import FileDigest, verify_bundle

PathLike = Union[str, "os.PathLike[str]"]
Step = Literal["found", "listed", "opened", "hashed", "verified", "linked", "loading", "loaded"]

#: The codes a refusal may carry beyond the verifier's reason codes (REASON_CODES): the guard's own,
#: and the listing's path rules (files.py), which the CLI reports as reasons too.
GUARD_CODES = (
    "unsigned", "bundle_unreadable", "content_code_capable", "content_malformed", "cannot_pin", "changed_before_load", "changed_during_load",
    "path_unreadable", "path_unsafe", "symlink_refused", "symlink_outside", "special_file",
)


class ModelRefused(VerificationError):
    """The model must not be (or, for ``changed_during_load``, should not have been) loaded."""


@dataclass
class CheckedFile:
    """One checked file, held open: the loader reads it through ``fd``."""

    requested: str
    #: Its path in the release's manifest (``FILE.sig``: its base name).
    name: str
    fd: int
    sha256: str
    content: ContentReport
    #: ``NAMESPACE/NAME@VERSION`` of the release that signs it, or None (unsigned, allowed).
    release: Optional[str]
    _stat: Tuple[int, int, int] = (0, 0, 0)
    _closed: bool = False

    def pinned_path(self) -> Optional[str]:
        """A name that opens this very file (the descriptor), or None where the platform has none."""
        for base in ("/proc/self/fd", "/dev/fd"):
            if os.path.isdir(base):
                return f"{base}/{self.fd}"
        return None

    def open(self) -> BinaryIO:
        """A new file object on the checked file, at offset 0 (its own offset: a dup would share ours)."""
        pinned = self.pinned_path()
        if pinned is not None and pinned.startswith("/proc/"):
            return open(pinned, "rb")
        f = os.fdopen(os.dup(self.fd), "rb")
        f.seek(0)
        return f

    def assert_unchanged(self, code: str = "changed_before_load", rehash: bool = False) -> None:
        """Raises when the file was rewritten in place since it was hashed (the descriptor sees it).
        Its size and times are compared first; when they moved (a write, but also a rename or unlink
        of the path, which changes the inode's ctime) or ``rehash`` asks, the bytes decide: timestamps
        move in coarse steps, so a write within one tick leaves them as they were."""
        st = os.fstat(self.fd)
        if (st.st_size, st.st_mtime_ns, st.st_ctime_ns) != self._stat or rehash:
            if st.st_size != self._stat[0] or hash_descriptor(self.fd, None)[0] != self.sha256:
                when = "while it was loaded: the loader has already read those bytes" if code == "changed_during_load" else "after it was checked"
                raise ModelRefused(code, f"{self.requested}: the file was rewritten in place {when}", [Reason(code, f"{self.requested} changed {when}", self.name)])

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self.fd)


@dataclass
class _Release:
    """Where a path's signature is: the bundle and the folder its names are relative to."""

    bundle: Optional[str]
    #: What is listed: the file itself, or the release folder the file (or the whole folder) is in.
    target: str
    #: The file's name in the manifest; None when the whole folder is loaded.
    name: Optional[str]


class Guard:
    """The checks and the hand-over; see the module's documentation. ``keys`` may be None only
    with ``allow_unsigned`` (every file is then judged by its content alone)."""

    def __init__(
        self,
        keys: Optional[KeySet],
        *,
        allow_unsigned: bool = False,
        allow_unsafe_content: bool = False,
        allow_symlinks: bool = False,
        pin: Literal["refuse", "warn"] = "refuse",
        recheck_after_load: Literal["hash", "stat"] = "hash",
        threads: Optional[int] = None,
        on_step: Optional[Callable[[Step, str], None]] = None,
    ) -> None:
        if keys is None and not allow_unsigned:
            raise ValueError("a Guard needs trusted keys (or allow_unsigned=True to judge files by content alone)")
        self.keys = keys
        self.allow_unsigned = allow_unsigned
        self.allow_unsafe_content = allow_unsafe_content
        self.allow_symlinks = allow_symlinks
        self.pin = pin
        self.recheck_after_load = recheck_after_load
        self.threads = threads
        self._on_step = on_step
        # What this guard handed to loaders and has not taken back: nested loader calls on these
        # pass through (they were checked). Private snapshot folders, by the name they were made
        # under and by their real path, and descriptor names (/proc/self/fd/N).
        self._handed_roots: List[str] = []
        self._handed_names: Set[str] = set()
        self._lock = threading.Lock()

    # -- checking ----------------------------------------------------------------------------
    def check_file(self, path: PathLike) -> CheckedFile:
        """Checks one file and returns it open; close it (or use :meth:`opened`)."""
        requested = os.fspath(path)
        release = self._find_release(requested)
        files = self._check(requested, release)
        return files[0]

    def check_folder(self, folder: PathLike) -> List[CheckedFile]:
        """Checks every file of a folder release (``model.sig`` in it) and returns them open."""
        requested = os.fspath(folder)
        bundle = os.path.join(requested, "model.sig")
        return self._check(requested, _Release(bundle if os.path.isfile(bundle) else None, requested, None))

    @contextlib.contextmanager
    def opened(self, path: PathLike) -> Iterator[CheckedFile]:
        """The checked file for the duration of a load; after it, rechecked (see the module)."""
        checked = self.check_file(path)
        try:
            checked.assert_unchanged()
            self._step("loading", checked.requested)
            yield checked
            self._step("loaded", checked.requested)
            checked.assert_unchanged("changed_during_load", rehash=self.recheck_after_load == "hash")
        finally:
            self._take_back(checked)
            checked.close()

    @contextlib.contextmanager
    def snapshot(self, folder: PathLike) -> Iterator[str]:
        """A private copy of a checked folder release for the duration of a load: a 0700 folder of
        links to the checked descriptors, exactly the manifest's files, removed afterwards."""
        checked = self.check_folder(folder)
        private = tempfile.mkdtemp(prefix="modelsign-snapshot-")
        try:
            for f in checked:
                pinned = self._pinned(f)
                dest = os.path.join(private, *f.name.split("/"))
                os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
                os.symlink(pinned, dest)
            self._step("linked", os.fspath(folder))
            for f in checked:
                f.assert_unchanged()
            with self._lock:
                self._handed_roots += [private, os.path.realpath(private)]
            self._step("loading", os.fspath(folder))
            yield private
            self._step("loaded", os.fspath(folder))
            for f in checked:
                f.assert_unchanged("changed_during_load", rehash=self.recheck_after_load == "hash")
        finally:
            with self._lock:
                for root in (private, os.path.realpath(private)):
                    if root in self._handed_roots:
                        self._handed_roots.remove(root)
            shutil.rmtree(private, ignore_errors=True)
            for f in checked:
                self._take_back(f)
                f.close()

    def is_checked_path(self, path: PathLike) -> bool:
        """Whether ``path`` is one this guard handed to a loader and still holds open (a nested
        loader call: already checked): a name in a private snapshot, or a descriptor name. Judged
        by the name as given (a snapshot's links resolve to the checked files' own paths)."""
        name = os.path.abspath(os.fspath(path))
        with self._lock:
            return name in self._handed_names or any(name == root or name.startswith(root + os.sep) for root in self._handed_roots)

    def _take_back(self, f: CheckedFile) -> None:
        pinned = f.pinned_path()
        if pinned is not None:
            with self._lock:
                self._handed_names.discard(pinned)

    def _pinned(self, f: CheckedFile) -> str:
        pinned = f.pinned_path()
        if pinned is not None:
            with self._lock:
                self._handed_names.add(pinned)
            return pinned
        if self.pin == "refuse":
            raise ModelRefused("cannot_pin", f"{f.requested}: this platform has no /proc/self/fd or /dev/fd, so the loader cannot be handed the checked file (pin='warn' loads it by path)")
        warnings.warn(f"modelsign: {f.requested} was checked, but this platform cannot pin the loader to the checked file; loading it by path", stacklevel=3)
        return f.requested

    def _step(self, step: Step, path: str) -> None:
        if self._on_step is not None:
            self._on_step(step, path)

    def _find_release(self, path: str) -> _Release:
        if os.path.lexists(path + ".sig"):
            return _Release(path + ".sig", path, os.path.basename(path))
        # A file of a folder release: the nearest model.sig above it names it by its path from there.
        here = os.path.dirname(os.path.abspath(path))
        while True:
            candidate = os.path.join(here, "model.sig")
            if os.path.isfile(candidate):
                rel = os.path.relpath(os.path.abspath(path), here).replace(os.sep, "/")
                return _Release(candidate, here, rel)
            parent = os.path.dirname(here)
            if parent == here:
                return _Release(None, path, os.path.basename(path))
            here = parent

    def _refuse(self, code: str, message: str, path: Optional[str] = None, reasons: Optional[List[Reason]] = None) -> ModelRefused:
        return ModelRefused(code, message, reasons or [Reason(code, message, path)])

    def _check(self, requested: str, release: _Release) -> List[CheckedFile]:
        self._step("found", requested)
        parsed: object = None
        claim_ignore: List[str] = list(DEFAULT_IGNORE_PATHS)
        claim_symlinks = False
        if release.bundle is None:
            if not self.allow_unsigned:
                where = f"{requested}.sig" if release.name is not None else os.path.join(requested, "model.sig")
                raise self._refuse("unsigned", f"{requested} is unsigned: no bundle at {where} (nor a model.sig in a folder above it)", release.name)
        else:
            parsed, claim, problems = read_bundle_file(release.bundle)
            if claim is None:
                why = problems[0]
                message = why.message if release.bundle in why.message else f"{release.bundle}: {why.message}"
                raise self._refuse(why.code, message, reasons=problems)
            claim_ignore = claim.ignore_paths
            claim_symlinks = claim.allow_symlinks
        # The listing applies the verifier's path rules; a single file of a folder release is found in it.
        try:
            listing = list_model(release.target, self.allow_symlinks or claim_symlinks or release.bundle is None, claim_ignore)
        except ModelPathError as err:
            raise self._refuse("path_unreadable", str(err)) from None
        wanted = listing.files if release.name is None or listing.kind == "file" else [f for f in listing.files if f.path == release.name]
        path_problems = [p for p in listing.problems if release.name is None or listing.kind == "file" or p.path == release.name]
        if path_problems:
            first = path_problems[0]
            raise self._refuse(first.code, f"{requested}: {first.message}", first.path)
        if not wanted:
            raise self._refuse("path_unreadable", f"{requested}: not a file of the release {release.bundle}")
        self._step("listed", requested)
        # Opened once each: everything after reads these descriptors, never the paths again.
        opened: List[Tuple[str, int]] = []
        try:
            for f in wanted:
                try:
                    # Resolved first (a listed file of a folder already is): no link is followed at open.
                    fd = os.open(os.path.realpath(f.abs), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
                except OSError as err:
                    raise self._refuse("path_unreadable", f"cannot open {f.abs}: {err.strerror}", f.path) from None
                opened.append((f.path, fd))
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise self._refuse("special_file", f"{f.abs} is not a regular file", f.path)
            self._step("opened", requested)
            hashed = hash_and_check_descriptors(opened, self.threads)
            self._step("hashed", requested)
            checked = [
                CheckedFile(requested if release.name is not None else os.path.join(requested, name), name, fd, digest, report, None, _stat_of(fd))
                for (name, fd), (digest, report) in zip(opened, hashed)
            ]
            if parsed is not None:
                assert self.keys is not None
                verdict = verify_bundle(parsed, self.keys, [FileDigest(c.name, c.sha256) for c in checked], skip_tlog=not self.keys.has_log_key)
                # One file of a folder release: the release's other files are not this load's business.
                reasons = [r for r in verdict.reasons if not (release.name is not None and r.code == "file_missing" and r.path != release.name)]
                if reasons:
                    worst = next((r for r in reasons if r.code not in UNTRUSTED_CODES), reasons[0])
                    raise self._refuse(worst.code, f"{requested}: [{worst.code}] {worst.message}", reasons=reasons)
                for c in checked:
                    c.release = f"{verdict.model}@{verdict.version}"
            unsafe = [content_reason(c.name, c.content) for c in checked if c.content.unsafe]
            if unsafe and not self.allow_unsafe_content:
                raise self._refuse(unsafe[0].code, f"{requested}: {unsafe[0].message}", reasons=unsafe)
            self._step("verified", requested)
            return checked
        except BaseException:
            for _, fd in opened:
                os.close(fd)
            raise

    # -- hooks -------------------------------------------------------------------------------
    def guard_file_loader(self, load: Callable[..., Any], takes: Literal["file", "path"]) -> Callable[..., Any]:
        """``load`` (its first argument a path) wrapped: the path is checked and the loader gets the
        checked file: a file object on it (``takes="file"``) or a name that opens it (``"path"``)."""
        if getattr(load, "modelsign_guarded", False):
            return load

        def guarded(target: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(target, (str, os.PathLike)) or self.is_checked_path(target):
                return load(target, *args, **kwargs)  # a file object (its opener answers for it), or already checked
            with self.opened(target) as checked:
                # torch.load(mmap=True) needs a file name.
                if takes == "path" or kwargs.get("mmap"):
                    return load(self._pinned(checked), *args, **kwargs)
                with checked.open() as f:
                    return load(f, *args, **kwargs)

        guarded.modelsign_guarded = True  # type: ignore[attr-defined]
        guarded.__wrapped__ = load  # type: ignore[attr-defined]
        return guarded

    def guard_safe_open(self, safe_open: Callable[..., Any]) -> Callable[..., Any]:
        """``safetensors.safe_open`` wrapped: the file is checked and kept open (and rechecked) for
        as long as the handle is; the handle reads the checked file."""
        if getattr(safe_open, "modelsign_guarded", False):
            return safe_open

        def guarded(filename: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(filename, (str, os.PathLike)) or self.is_checked_path(filename):
                return safe_open(filename, *args, **kwargs)
            held = self.opened(filename)
            checked = held.__enter__()
            try:
                handle = safe_open(self._pinned(checked), *args, **kwargs)
            except BaseException as err:
                held.__exit__(type(err), err, err.__traceback__)
                raise
            return _HeldHandle(handle, held)

        guarded.modelsign_guarded = True  # type: ignore[attr-defined]
        guarded.__wrapped__ = safe_open  # type: ignore[attr-defined]
        return guarded

    def guard_from_pretrained(self, cls: type) -> None:
        """``cls.from_pretrained`` wrapped: a local folder (or a repository id already in the
        Hugging Face cache) is checked whole and loaded, offline, from a private snapshot of
        links to the checked files; nested calls on that snapshot pass through."""
        current = cls.__dict__.get("from_pretrained")
        if current is None or getattr(getattr(current, "__func__", current), "modelsign_guarded", False):
            return
        original: Callable[..., Any] = current.__func__ if isinstance(current, classmethod) else current
        guard = self

        def from_pretrained(klass: type, name_or_path: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(name_or_path, (str, os.PathLike)) and guard.is_checked_path(name_or_path):
                return original(klass, name_or_path, *args, **kwargs)
            folder = _local_snapshot(name_or_path, kwargs)
            with guard.snapshot(folder) as private, _offline():
                kwargs["local_files_only"] = True
                return original(klass, private, *args, **kwargs)

        from_pretrained.modelsign_guarded = True  # type: ignore[attr-defined]
        setattr(cls, "from_pretrained", classmethod(from_pretrained))

    def install(
        self,
        *,
        torch: Any = True,
        safetensors: Any = True,
        from_pretrained: Union[bool, Sequence[type]] = True,
    ) -> List[str]:
        """Hooks the loaders. Each argument is a module (or, for ``from_pretrained``, classes) to
        hook now, False to leave it, or True: hook it now if it is imported, else the moment it
        is (nothing is imported here: importing transformers would cost an application seconds
        at start-up). Returns what was hooked now and what will be on import."""
        hooked: List[str] = []
        targets: List[Tuple[str, Callable[[Any], List[str]]]] = []
        if torch is True:
            targets.append(("torch", self._hook_torch))
        elif torch:
            hooked += self._hook_torch(torch)
        if safetensors is True:
            targets += [("safetensors", self._hook_safetensors), ("safetensors.torch", self._hook_safetensors_torch)]
        elif safetensors:
            hooked += self._hook_safetensors(safetensors)
            st_torch = getattr(safetensors, "torch", None)
            if st_torch is not None:
                hooked += self._hook_safetensors_torch(st_torch)
        if from_pretrained is True:
            for module, names in _PRETRAINED:
                targets.append((module, self._class_hook(names)))
        elif from_pretrained:
            hooked += self._hook_classes(list(from_pretrained))
        for module, hook in targets:
            if module in sys.modules:
                hooked += hook(sys.modules[module])
            else:
                _on_import(module, hook)
                hooked.append(f"{module} (when imported)")
        return hooked

    def _hook_torch(self, torch_module: Any) -> List[str]:
        torch_module.load = self.guard_file_loader(torch_module.load, "file")
        return ["torch.load"]

    def _hook_safetensors(self, st: Any) -> List[str]:
        if not hasattr(st, "safe_open"):
            return []
        st.safe_open = self.guard_safe_open(st.safe_open)
        return ["safetensors.safe_open"]

    def _hook_safetensors_torch(self, st_torch: Any) -> List[str]:
        st_torch.load_file = self.guard_file_loader(st_torch.load_file, "path")
        # load_file opens through this module's own safe_open: hooked too (it passes the names it was handed).
        if hasattr(st_torch, "safe_open"):
            st_torch.safe_open = self.guard_safe_open(st_torch.safe_open)
        return ["safetensors.torch.load_file"]

    def _class_hook(self, names: Sequence[str]) -> Callable[[Any], List[str]]:
        return lambda module: self._hook_classes([getattr(module, n, None) for n in names])

    def _hook_classes(self, classes: Sequence[Any]) -> List[str]:
        hooked = []
        for cls in classes:
            if isinstance(cls, type):
                self.guard_from_pretrained(cls)
                hooked.append(f"{cls.__module__}.{cls.__qualname__}.from_pretrained")
        return hooked


class _HeldHandle:
    """A safe_open handle that releases (and rechecks) the checked file when it is closed or collected."""

    def __init__(self, handle: Any, held: "contextlib._GeneratorContextManager[CheckedFile]") -> None:
        self._handle = handle
        self._held = held
        self._finalizer = weakref.finalize(self, _release_quietly, held)

    def __enter__(self) -> Any:
        return self._handle.__enter__()

    def __exit__(self, *exc: Any) -> Any:
        result = self._handle.__exit__(*exc)
        self._finalizer.detach()
        self._held.__exit__(None, None, None)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def _release_quietly(held: "contextlib._GeneratorContextManager[CheckedFile]") -> None:
    with contextlib.suppress(Exception):
        held.__exit__(None, None, None)


def _stat_of(fd: int) -> Tuple[int, int, int]:
    st = os.fstat(fd)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _module(name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        return None


#: Where the from_pretrained classes are defined (transformers and diffusers export them lazily).
_PRETRAINED: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("transformers.modeling_utils", ("PreTrainedModel",)),
    ("transformers.models.auto.auto_factory", ("_BaseAutoModelClass",)),
    ("diffusers.pipelines.pipeline_utils", ("DiffusionPipeline",)),
    ("diffusers.models.modeling_utils", ("ModelMixin",)),
)

_pending: Dict[str, List[Callable[[Any], List[str]]]] = {}
_pending_lock = threading.Lock()


class _HookOnImport(importlib.abc.MetaPathFinder):
    """Runs the hooks waiting for a module right after it is first executed (and before the
    importer that asked for it goes on: ``from safetensors import safe_open`` binds the hook)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        with _pending_lock:
            if fullname not in _pending:
                return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            with _pending_lock:
                hooks = _pending.pop(fullname, [])
            for hook in hooks:
                hook(module)

        # Per spec, not per loader class: other modules of the same loader are untouched.
        spec.loader = _ExecWrapper(loader, exec_module)
        return spec


class _ExecWrapper(importlib.abc.Loader):
    def __init__(self, loader: Any, exec_module: Callable[[Any], None]) -> None:
        self._loader = loader
        self._exec = exec_module

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec) if hasattr(self._loader, "create_module") else None

    def exec_module(self, module: Any) -> None:
        self._exec(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


_finder = _HookOnImport()


def _on_import(module: str, hook: Callable[[Any], List[str]]) -> None:
    with _pending_lock:
        _pending.setdefault(module, []).append(hook)
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)


def _local_snapshot(name_or_path: Any, kwargs: Dict[str, Any]) -> str:
    """The folder a from_pretrained argument names: a local folder, or a repository id's snapshot already in the Hugging Face cache."""
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise ModelRefused("path_unreadable", f"from_pretrained({name_or_path!r}): not a folder or repository id")
    path = os.fspath(name_or_path)
    if os.path.isdir(path):
        return path
    hub = _module("huggingface_hub")
    if hub is not None:
        try:
            folder: str = hub.snapshot_download(path, revision=kwargs.get("revision"), cache_dir=kwargs.get("cache_dir"), local_files_only=True)
            return folder
        except Exception as err:  # the hub's own errors: not in the cache
            raise ModelRefused("path_unreadable", f"{path}: not a local folder, and not in the Hugging Face cache ({err}); download it first, then load it") from None
    raise ModelRefused("path_unreadable", f"{path}: not a local folder (and huggingface_hub is not installed to look in its cache)")


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous


def load_keys(path: str) -> KeySet:
    """A KeySet from a saved key set (``GET /v1/keys``, JSON) or one pinned release key (PEM)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("{"):
        keys = trusted_keys_from_jwks(json.loads(text))
        if not keys:
            raise ValueError(f"{path} holds no usable key")
        return KeySet(keys)
    key = parse_spki_pem(text)
    if key is None:
        raise ValueError(f"{path} is neither a JWKS nor a public key in PEM")
    return KeySet([pinned_key(key)])


def from_environment(
    keys: Union[KeySet, str, None] = None,
    *,
    allow_unsigned: Optional[bool] = None,
    allow_unsafe_content: Optional[bool] = None,
    pin: Literal["refuse", "warn"] = "refuse",
) -> Guard:
    """A Guard configured as an application's environment says, where the arguments do not.
    ``keys``: a KeySet, or the path of a saved key set (``GET /v1/keys``, JSON) or of a release key
    (PEM); default ``MODELSIGN_KEYS``, then ``MODELSIGN_KEY``. ``MODELSIGN_ALLOW_UNSIGNED=1`` and
    ``MODELSIGN_ALLOW_UNSAFE_CONTENT=1`` set the two allowances."""
    if keys is None:
        keys = os.environ.get("MODELSIGN_KEYS") or os.environ.get("MODELSIGN_KEY")
    key_set = load_keys(keys) if isinstance(keys, str) else keys
    return Guard(
        key_set,
        allow_unsigned=allow_unsigned if allow_unsigned is not None else os.environ.get("MODELSIGN_ALLOW_UNSIGNED") == "1",
        allow_unsafe_content=allow_unsafe_content if allow_unsafe_content is not None else os.environ.get("MODELSIGN_ALLOW_UNSAFE_CONTENT") == "1",
        pin=pin,
    )


def install(
    keys: Union[KeySet, str, None] = None,
    *,
    allow_unsigned: Optional[bool] = None,
    allow_unsafe_content: Optional[bool] = None,
    pin: Literal["refuse", "warn"] = "refuse",
    **hooks: Any,
) -> Guard:
    """The one line: a Guard from :func:`from_environment`, hooked into every loader, now or as
    each is imported (``hooks`` as :meth:`Guard.install` takes them). Returns the Guard."""
    guard = from_environment(keys, allow_unsigned=allow_unsigned, allow_unsafe_content=allow_unsafe_content, pin=pin)
    guard.install(**hooks)
    return guard


__all__ = ["GUARD_CODES", "CheckedFile", "Guard", "ModelRefused", "from_environment", "install", "load_keys"]
