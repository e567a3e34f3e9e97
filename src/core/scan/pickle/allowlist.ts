// The globals a weights pickle may name: PyTorch's own weights_only allowlist for a named torch
// version, generated from an installed torch (scripts/torch/allowlist.py) into allowlist.json,
// plus the checkpoint extension kept in the same file (globals real Stable Diffusion, Lightning
// and NumPy-bearing checkpoints hold, which torch's defaults refuse). The list is data, not code,
// so a torch release is one regeneration and a review of the diff; a change changes verdicts, so
// it gets a new version and a CHANGELOG line.
import allowlist from './allowlist.json' with { type: 'json' };

/** Recorded in every content report and content claim, with the torch version below. */
export const ALLOWLIST_VERSION: string = allowlist.version;
/** The torch release whose weights_only defaults the list is. */
export const ALLOWLIST_TORCH_VERSION: string = allowlist.torch.version;

const TORCH = new Set<string>(allowlist.torch.allowed);
const EXTENSION = new Set<string>(allowlist.extension.globals);
// torch refuses these modules even when a user allowlists a global from them.
const BLOCKED = new Set<string>(allowlist.torch.blockedModules);

/** Whether `module.name` (already resolved) is allowed; a name with attribute walks or dunders never is. */
export function isAllowedGlobal(module: string, name: string): boolean {
  if (name.includes('.') || /__\w+__/.test(name) || /__\w+__/.test(module) || BLOCKED.has(module)) return false;
  const full = `${module}.${name}`;
  return TORCH.has(full) || EXTENSION.has(full);
}
