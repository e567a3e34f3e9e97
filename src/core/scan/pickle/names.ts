// How a pickle's global names resolve, as CPython's Unpickler.find_class resolves them, and which
// are allowed. Python 2 names (protocol < 3) are mapped first (_compat_pickle), so `commands
// getoutput` is judged as `subprocess getoutput`; the comparison is exact on the mapped
// `module.name`, so "builtins" is never a prefix that lets `builtins print.__class__...` through.
// The mappings are data in allowlist.json (`names`), shared with the Python checker
// (python/src/modelsign_verify/scan/), so the two cannot resolve a name differently.
import allowlist from './allowlist.json' with { type: 'json' };

/** _compat_pickle.IMPORT_MAPPING, the entries that matter for judging. */
const IMPORT_MAPPING: Readonly<Record<string, string>> = allowlist.names.importMapping;
/** _compat_pickle.NAME_MAPPING: `module name` pairs that move to another module or name. */
const NAME_MAPPING: Readonly<Record<string, readonly string[]>> = allowlist.names.nameMapping;

/** The module and name find_class imports for a GLOBAL (protocol < 3 maps Python 2 names first). */
export function resolveGlobal(module: string, name: string, protocol: number): { module: string; name: string } {
  if (protocol < 3) {
    const key = `${module} ${name}`;
    const mapped = Object.prototype.hasOwnProperty.call(NAME_MAPPING, key) ? NAME_MAPPING[key] : undefined;
    if (mapped) return { module: mapped[0]!, name: mapped[1]! };
    const moved = Object.prototype.hasOwnProperty.call(IMPORT_MAPPING, module) ? IMPORT_MAPPING[module] : undefined;
    if (moved) return { module: moved, name };
  }
  return { module, name };
}
