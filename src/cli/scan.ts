// `modelsign scan PATH`: what each file of a model is (core/scan), read once in the hashing pass.
import { parse } from './args.ts';
import { describeContent, isUnsafeVerdict, verdictCounts } from './content-report.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { hashModel, layoutNote } from './hash.ts';
import { ALLOWLIST_TORCH_VERSION, ALLOWLIST_VERSION } from '../core/scan/pickle/allowlist.ts';
import { PICKLE_CAPABLE_EXTENSIONS } from '../core/scan/classify.ts';

const USAGE = `Usage: modelsign scan PATH [--ignore PATH]... [--allow-symlinks] [--json]

Reads every file of a model folder (or one file) and says what it is, by its content, never by
its name: data-only (safetensors, plain NumPy, a pickle of plain data), allowlisted-pickle (a
pickle whose globals are all on PyTorch ${ALLOWLIST_TORCH_VERSION}'s weights_only list or the
checkpoint list, version ${ALLOWLIST_VERSION}), code-capable (a pickle that imports anything else: it
can run code when loaded; the globals are named), malformed (does not parse cleanly, or is
ambiguous), unknown (none of these formats). A pickle that imports anything unsafe is code-capable
under any name. A file with a name a loader unpickles (${PICKLE_CAPABLE_EXTENSIONS.join(' ')}) or
no extension (a Hugging Face blob) that is not recognised (nor text) is malformed, never unknown.
--json gives each file's sha256 (of exactly the bytes checked), verdict, format and findings.
Exit codes: 0 nothing code-capable or malformed, 8 something is, 2 usage, 4 a path cannot be read.`;

export async function scan(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { json: { type: 'boolean', default: false }, ignore: { type: 'string', multiple: true, default: [] }, 'allow-symlinks': { type: 'boolean', default: false } },
    USAGE,
  );
  if (positionals.length !== 1) throw new CliFailure(EXIT.usage, `give one PATH\n\n${USAGE}`);
  const model = await hashModel(positionals[0]!, { ignore: values.ignore!, allowSymlinks: values['allow-symlinks']!, progress: !values.json, check: true });
  const unsafe = model.files.filter((f) => isUnsafeVerdict(f.content!.verdict));
  const exitCode = unsafe.length > 0 ? EXIT.unsafe : EXIT.ok;
  if (values.json) {
    const files = model.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size, verdict: f.content!.verdict, format: f.content!.format ?? null, findings: f.content!.findings }));
    process.stdout.write(JSON.stringify({ path: positionals[0], layout: model.listing.layout, allowlist: ALLOWLIST_VERSION, torch: ALLOWLIST_TORCH_VERSION, ok: exitCode === EXIT.ok, exitCode, files }) + '\n');
    return exitCode;
  }
  const note = layoutNote(model.listing);
  if (note) process.stderr.write(`${note}\n`);
  for (const f of model.files) (isUnsafeVerdict(f.content!.verdict) ? process.stderr : process.stdout).write(describeContent(f.path, f.content!) + '\n');
  process.stdout.write(`scan: ${model.files.length} files: ${verdictCounts(model.files.map((f) => f.content))}${unsafe.length > 0 ? `; ${unsafe.length} can run code when loaded or are malformed` : ''}\n`);
  return exitCode;
}
