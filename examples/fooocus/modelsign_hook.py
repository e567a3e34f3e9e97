"""modelsign guard for Fooocus: every checkpoint, VAE, LoRA and other model file Fooocus loads
through torch.load or safetensors.torch.load_file is checked first (signature against your
trusted keys, SHA-256, and modelsign's content check, all in the `modelsign-verify` package, in
pure Python) and the loader is handed the file that was checked.

Where it goes (Fooocus 2.5.x): at the end of `patch_all()` in `modules/patch.py`, after its
`build_loaded(safetensors.torch, 'load_file')` and `build_loaded(torch, 'load')` lines:

    import modelsign_hook
    modelsign_hook.install(torch, safetensors.torch)

with this file next to `modules/` and `modelsign-verify` installed in Fooocus's environment. It
must wrap *outside* build_loaded: build_loaded catches every exception of the loader and renames
the file to `<name>.corrupted`, telling the user to download it again; a refusal raised inside
would do that to the very file it refused. Wrapped outside, a refusal propagates as ModelRefused
and the file stays where it is.

Configuration (environment, read by modelsign_verify.guard.from_environment):
  MODELSIGN_KEYS or MODELSIGN_KEY  the trusted key set (GET /v1/keys, JSON) or release key (PEM)
  MODELSIGN_ALLOW_UNSIGNED=1       load files without a FILE.sig bundle after the content check alone
  MODELSIGN_ALLOW_UNSAFE_CONTENT=1 do not refuse code-capable or malformed files (not recommended)

Bundles are per file (`FILE.sig` beside it, `modelsign sign FILE`): Fooocus's folders mix files
from many publishers. What remains open: a writer of the file itself (not only of its folder)
changing it in place during the load is refused after the load, when the loader has read it;
`modelsign audit --owner USER` reports who can write to the model folders.
"""
from modelsign_verify.guard import Guard, ModelRefused, from_environment

__all__ = ["ModelRefused", "install"]


def install(torch_module, safetensors_torch_module, keys=None) -> Guard:
    """Wraps torch.load and safetensors.torch.load_file (call after Fooocus's patch_all wrapped them)."""
    guard = from_environment(keys)
    torch_module.load = guard.guard_file_loader(torch_module.load, "file")
    safetensors_torch_module.load_file = guard.guard_file_loader(safetensors_torch_module.load_file, "path")
    return guard
