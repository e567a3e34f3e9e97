// `modelsign audit DIR...`: the periodic integrity check of model folders (cron, systemd timer).
// Each DIR is a model itself (it holds model.sig) or a folder of models: sub-folders (with
// model.sig) and single checkpoint files (with FILE.sig beside them). Anything without a bundle
// is reported as unsigned.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from './args.ts';
import { auditPermissions, uidOf, type PermissionFinding } from './permission-audit.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { trustFromOptions } from './trust.ts';
import { TRUST_OPTIONS } from './verify.ts';
import { witnessFromOptions } from './witness-options.ts';
import { describe, verifyModel, type ModelReport } from './verify-model.ts';

const USAGE = `Usage: modelsign audit DIR... (--key PEM [--chain FILE] | --keys JWKS | --server URL) [--log-key PEM] [--owner USER]
                       [--allow-unsafe-content] [--witness-policy FILE] [--json]

Verifies every model under each DIR (sub-folders with model.sig, files with FILE.sig beside them;
DIR itself when it holds model.sig) and prints one summary. Also reports permissions: files and
folders under DIR writable by group or others or not owned by --owner (default: DIR's owner), and
folders above DIR that someone else can write. Every file also goes through the content check
(see \`modelsign scan\`). Exit codes: 0 all verified, 1 something was tampered with or is
unsigned, 8 a file can run code when loaded or is malformed (unless --allow-unsafe-content),
3 a key is untrusted or revoked, 4 a path could not be read, 2 usage (permission findings are
reported, not an exit code). --witness-policy FILE requires each release's log entry to be in a
checkpoint its quorum of witnesses cosigned (the bundle's own, or the .tlog-proof beside the
bundle). Made for cron or a systemd timer (see README).`;

const IGNORED = new Set(['.git', '.github', '.cache', 'lost+found']);

async function modelsIn(dir: string): Promise<string[]> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new CliFailure(EXIT.io, `${dir}: no such folder`);
  }
  if (!info.isDirectory()) throw new CliFailure(EXIT.usage, `${dir} is not a folder; use \`modelsign verify\` for one file`);
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.some((e) => e.name === 'model.sig')) return [dir];
  const names = new Set(entries.map((e) => e.name));
  const models: string[] = [];
  for (const e of entries) {
    if (IGNORED.has(e.name) || e.name.startsWith('.')) continue;
    if (e.isFile() && e.name.endsWith('.sig') && names.has(e.name.slice(0, -4))) continue;
    if (e.isFile() && e.name.endsWith('.sig.tlog-proof') && names.has(e.name.slice(0, -'.sig.tlog-proof'.length))) continue;
    models.push(path.join(dir, e.name));
  }
  return models.sort();
}

export async function audit(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...TRUST_OPTIONS, owner: { type: 'string' } }, USAGE);
  if (positionals.length === 0) throw new CliFailure(EXIT.usage, `give at least one DIR\n\n${USAGE}`);
  // Each release's proof is the one beside its bundle; one --proof cannot belong to several.
  if (values.proof !== undefined) throw new CliFailure(EXIT.usage, 'audit reads each release\'s own .tlog-proof beside its bundle; --proof is for verify');
  const witness = await witnessFromOptions(values);
  const trust = await trustFromOptions(values);
  const reports: ModelReport[] = [];
  for (const dir of positionals) {
    for (const model of await modelsIn(dir)) reports.push(await verifyModel(model, { trust, allowSymlinks: values['allow-symlinks']!, allowUnsafeContent: values['allow-unsafe-content']!, witness }));
  }
  let expected: number | undefined;
  if (values.owner !== undefined) {
    expected = await uidOf(values.owner, () => readFile('/etc/passwd', 'utf8').catch(() => ''));
    if (expected === undefined) throw new CliFailure(EXIT.usage, `--owner ${JSON.stringify(values.owner)} is neither a uid nor a user in /etc/passwd`);
  }
  const permissions: PermissionFinding[] = [];
  for (const dir of positionals) permissions.push(...(await auditPermissions([dir], expected ?? (await stat(dir)).uid)));
  const count = (o: string) => reports.filter((r) => r.outcome === o).length;
  const summary = { models: reports.length, verified: count('verified'), tampered: count('tampered'), unsafe: count('unsafe'), unsigned: count('unsigned'), untrusted: count('untrusted'), errors: count('error') };
  // The worst outcome decides the exit code: tampering or unsigned, then unsafe content, then untrusted, then I/O.
  const exitCode =
    summary.tampered + summary.unsigned > 0 ? EXIT.tampered : summary.unsafe > 0 ? EXIT.unsafe : summary.untrusted > 0 ? EXIT.untrusted : summary.errors > 0 ? EXIT.io : EXIT.ok;
  if (values.json) {
    process.stdout.write(JSON.stringify({ ok: exitCode === EXIT.ok, exitCode, summary, models: reports, permissions }) + '\n');
  } else {
    for (const r of reports) (r.exitCode === EXIT.ok ? process.stdout : process.stderr).write(describe(r).join('\n') + '\n');
    for (const p of permissions) process.stderr.write(`permissions: ${p.detail}\n`);
    process.stdout.write(`audit: ${summary.models} models, ${summary.verified} verified, ${summary.tampered} tampered, ${summary.unsafe} unsafe, ${summary.unsigned} unsigned, ${summary.untrusted} untrusted, ${summary.errors} unreadable; ${permissions.length} permission findings\n`);
  }
  return exitCode;
}
