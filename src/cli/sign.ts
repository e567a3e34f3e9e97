// `modelsign sign PATH --model ns/name --version V`: hashes the model, asks the service to sign
// the manifest, writes the bundle next to the model.
import { clientEnv } from '../config.ts';
import { parse } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { writeFileAtomic } from './files.ts';
import { hashModel } from './hash.ts';
import { failureOf, request, serverUrl } from './http.ts';
import { defaultBundlePath } from './model-files.ts';

const USAGE = `Usage: modelsign sign PATH --model NAMESPACE/NAME --version V [--server URL] [--token T]
                      [--out FILE] [--ignore PATH]... [--allow-symlinks] [--json]

Hashes PATH (a model folder or one file), has the service sign the manifest and writes the bundle:
model.sig inside a folder, FILE.sig beside a file (or --out). The server and token come from
--server/--token or MODELSIGN_SERVER/MODELSIGN_TOKEN. Exit codes: 0 signed, 2 usage, 4 a path
cannot be read, 5 the service cannot be reached or failed, 6 the token was refused, 7 the
service refused the release (e.g. the version is signed with other files).`;

export async function sign(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      model: { type: 'string' },
      version: { type: 'string' },
      server: { type: 'string' },
      token: { type: 'string' },
      out: { type: 'string' },
      ignore: { type: 'string', multiple: true, default: [] },
      'allow-symlinks': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (positionals.length !== 1 || !values.model || !values.version) throw new CliFailure(EXIT.usage, `give PATH, --model and --version\n\n${USAGE}`);
  const server = values.server ?? clientEnv().server;
  serverUrl(server);
  const token = values.token ?? clientEnv().token;
  if (!token) throw new CliFailure(EXIT.usage, 'give a publisher token: --token or MODELSIGN_TOKEN');
  const target = positionals[0]!;
  const model = await hashModel(target, { ignore: values.ignore!, allowSymlinks: values['allow-symlinks']!, progress: !values.json });
  const out = values.out ?? (await defaultBundlePath(target));
  const { status, body } = await request(server!, '/v1/signatures', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ model: values.model, version: values.version, files: model.files, ...(model.ignorePaths.length > 0 ? { ignorePaths: model.ignorePaths } : {}) }),
  });
  if (status !== 200 && status !== 201) throw failureOf(status, body, 'the service did not sign');
  const signed = body as { id: string; kid: string; logIndex: number | null; bundle: unknown };
  try {
    await writeFileAtomic(out, JSON.stringify(signed.bundle) + '\n');
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot write ${out}: ${(err as Error).message}`);
  }
  const result = { bundle: out, id: signed.id, kid: signed.kid, logIndex: signed.logIndex, rootDigest: model.rootDigest, files: model.files.length, created: status === 201 };
  process.stdout.write(
    values.json
      ? JSON.stringify(result) + '\n'
      : `${status === 201 ? 'signed' : 'already signed with the same files'}: ${values.model}@${values.version} (${model.files.length} files, root ${model.rootDigest.slice(0, 12)}), log entry ${signed.logIndex ?? 'pending'}; bundle written to ${out}\n`,
  );
  return EXIT.ok;
}
