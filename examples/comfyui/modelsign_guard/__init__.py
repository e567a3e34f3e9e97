"""modelsign guard for ComfyUI, as a custom node: copy this folder into `ComfyUI/custom_nodes/`
and install `modelsign-verify` into ComfyUI's Python environment. ComfyUI imports custom nodes
at start-up, before it loads any model; importing this one hooks `torch.load`,
`safetensors.safe_open` and `safetensors.torch.load_file` (the calls `comfy.utils.load_torch_file`
makes for every checkpoint, LoRA, VAE, ControlNet and upscaler) and the `from_pretrained` of
transformers and diffusers, with a guard configured from the environment:

  MODELSIGN_KEYS or MODELSIGN_KEY  the trusted key set (GET /v1/keys, JSON) or release key (PEM)
  MODELSIGN_ALLOW_UNSIGNED=1       load files without a bundle after the content check alone
  MODELSIGN_ALLOW_UNSAFE_CONTENT=1 do not refuse code-capable or malformed files (not recommended)

A refused file raises ModelRefused (its `code` is stable) from the node that loads it, and
ComfyUI shows the error for that prompt; nothing is renamed or deleted. It adds no nodes."""
import logging

from modelsign_verify import guard as _guard

GUARD = _guard.install()
logging.getLogger("modelsign").info("modelsign guard: every model load is checked")

NODE_CLASS_MAPPINGS: dict = {}
NODE_DISPLAY_NAME_MAPPINGS: dict = {}
