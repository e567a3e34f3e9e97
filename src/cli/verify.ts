// `modelsign verify PATH`: the check to run before loading a model.
import { parse } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { trustFromOptions } from './trust.ts';
import { witnessFromOptions } from './witness-options.ts';
import { layoutNote } from './hash.ts';
import { describe, verifyModel } from './verify-model.ts';

export const TRUST_OPTIONS = {
  key: { type: 'string' },
  keys: { type: 'string' },
  server: { type: 'string' },
  chain: { type: 'string' },
  'log-key': { type: 'string' },
  'allow-symlinks': { type: 'boolean', default: false },
  'allow-unsafe-content': { type: 'boolean', default: false },
  'witness-policy': { type: 'string' },
  proof: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

const USAGE = `Usage: modelsign verify PATH [--bundle FILE] (--key PEM [--chain FILE] | --keys JWKS | --server URL)
                        [--log-key PEM] [--expect NS/NAME[@VERSION]] [--allow-symlinks]
                        [--allow-unsafe-content] [--witness-policy FILE [--proof FILE]] [--json]

Recomputes every file's SHA-256 and checks them, the signature, the key (status, rotation chain)
and the transparency-log entry against the bundle (model.sig in a folder, FILE.sig beside a file,
or --bundle). Trust: --key pins a release key (with --chain FILE or --server, rotations are
followed from it); --keys is a saved GET /v1/keys; --server fetches the current keys. The log
entry is checked whenever a log key is trusted (--keys, --server, a chain, or --log-key).
The content check runs in the same pass (see \`modelsign scan\`): a file that can run code when
loaded or is malformed fails the check unless --allow-unsafe-content; the output also says
whether the release was checked when it was signed. A Hugging Face cache snapshot is recognised.
Exit codes: 0 verified, 1 tampered (changed, missing, extra or unsigned files, bad signature),
8 unsafe content, 3 untrusted or revoked key, 2 usage, 4 path or bundle unreadable, 5 service
unreachable (when several hold, the first in this list).
--witness-policy FILE (a C2SP tlog-policy: witnesses and a quorum, always your own) requires the
log entry to be in a checkpoint that quorum cosigned: the bundle's own, or that of the tlog-proof
beside it (model.sig.tlog-proof, FILE.sig.tlog-proof, or --proof FILE).
--expect pins the release the loader wants: a bundle for another model or version (an old,
vulnerable release swapped in whole, with its own valid bundle) fails with release_unexpected.`;

const EXPECT = /^[a-z0-9][a-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9][A-Za-z0-9._+-]*)?$/;

export async function verify(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...TRUST_OPTIONS, bundle: { type: 'string' }, expect: { type: 'string' } }, USAGE);
  if (positionals.length !== 1) throw new CliFailure(EXIT.usage, `give one PATH\n\n${USAGE}`);
  if (values.expect !== undefined && !EXPECT.test(values.expect)) throw new CliFailure(EXIT.usage, `--expect takes NS/NAME or NS/NAME@VERSION, got ${JSON.stringify(values.expect)}`);
  const witness = await witnessFromOptions(values);
  const trust = await trustFromOptions(values);
  const report = await verifyModel(positionals[0]!, { bundle: values.bundle, trust, allowSymlinks: values['allow-symlinks']!, expect: values.expect, allowUnsafeContent: values['allow-unsafe-content']!, witness });
  const note = report.layout && !values.json ? layoutNote(report.layout) : undefined;
  if (note) process.stderr.write(`${note}\n`);
  if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
  else (report.exitCode === EXIT.ok ? process.stdout : process.stderr).write(describe(report).join('\n') + '\n');
  return report.exitCode;
}
