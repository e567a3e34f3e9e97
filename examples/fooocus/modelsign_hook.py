"""modelsign guard for Fooocus: every checkpoint, VAE, LoRA and other model file Fooocus loads
through torch.load or safetensors.torch.load_file is checked first (signature against a pinned
key, SHA-256, and modelsign's content check) and the loader is handed the file that was checked.

Where it goes (Fooocus 2.5.x): at the end of `patch_all()` in `modules/patch.py`, after its
`build_loaded(safetensors.torch, 'load_file')` and `build_loaded(torch, 'load')` lines:

    import modelsign_hook
    modelsign_hook.install(torch, safetensors.torch)

with this file and `examples/python/verify_model.py` copied next to `modules/` (or on
PYTHONPATH). It must wrap *outside* build_loaded: build_loaded catches every exception of the
loader and renames the file to `<name>.corrupted`, telling the user to download it again; a
refusal raised inside would do that to the very file it refused. Wrapped outside, a refusal
propagates as ModelRefused and the file stays where it is.

Configuration (environment):
  MODELSIGN_KEY                  the pinned release key (PEM) bundles must be signed with (required)
  MODELSIGN_CMD                  the modelsign command for the content check (default: npx --no-install modelsign)
  MODELSIGN_ALLOW_UNSIGNED=1     load files without a FILE.sig bundle after the content check alone
  MODELSIGN_ALLOW_UNSAFE_CONTENT=1  do not refuse code-capable or malformed files (not recommended)

Bundles are per file (`FILE.sig` beside it, `modelsign sign FILE`): Fooocus's folders mix files
from many publishers. What remains open: a writer of the file itself (not only of its folder)
changing it in place during the load is detected after the load (finish_load), not prevented;
`modelsign audit --owner USER` reports who can write to the model folders.
"""
import os

from verify_model import ModelVerificationError, finish_load, open_scanned, open_verified


class ModelRefused(ModelVerificationError):
    """The model file must not be loaded; `code` is stable, the message names the file."""


def _flag(name):
    return os.environ.get(name, "") == "1"


def open_checked(path, key=None):
    """The checked file, open at offset 0 (close it after loading)."""
    path = os.fspath(path)
    key = key or os.environ.get("MODELSIGN_KEY")
    allow_unsafe = _flag("MODELSIGN_ALLOW_UNSAFE_CONTENT")
    try:
        if os.path.exists(path + ".sig"):
            if not key:
                raise ModelRefused("MODELSIGN_KEY is not set: no key to check bundles against", "key_unknown")
            return open_verified(path, key, allow_unsafe_content=allow_unsafe)
        if not _flag("MODELSIGN_ALLOW_UNSIGNED"):
            raise ModelRefused(f"{path} has no bundle ({path}.sig): it is unsigned", "unsigned")
        return open_scanned(path, allow_unsafe)
    except ModelRefused:
        raise
    except ModelVerificationError as e:
        raise ModelRefused(f"{path}: {e}", e.code) from None


def guard(load, key=None, needs_path=False):
    """`load` wrapped: a path is checked and the loader gets the checked file (or, when it needs
    a file name, /proc/self/fd/N, which names the checked file and not whatever the path holds now)."""

    def guarded(target, *args, **kwargs):
        if not isinstance(target, (str, os.PathLike)):
            return load(target, *args, **kwargs)  # a file object: its opener answers for it
        f = open_checked(target, key)
        try:
            if needs_path:
                fd_path = f"/proc/self/fd/{f.fileno()}"
                result = load(fd_path if os.path.exists(fd_path) else os.fspath(target), *args, **kwargs)
            else:
                result = load(f, *args, **kwargs)
            try:
                finish_load(f)
            except ModelVerificationError as e:
                raise ModelRefused(str(e), e.code) from None
            return result
        finally:
            f.close()

    guarded.modelsign_guarded = True
    return guarded


def install(torch_module, safetensors_torch_module, key=None):
    """Wraps torch.load and safetensors.torch.load_file (call after Fooocus's patch_all wrapped them)."""
    if not getattr(torch_module.load, "modelsign_guarded", False):
        torch_module.load = guard(torch_module.load, key)
    if not getattr(safetensors_torch_module.load_file, "modelsign_guarded", False):
        safetensors_torch_module.load_file = guard(safetensors_torch_module.load_file, key, needs_path=True)
