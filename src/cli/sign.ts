// `modelsign sign PATH --model ns/name --version V`: hashes the model, asks the service to sign
// the manifest, writes the bundle next to the model. `--batch FILE` signs many releases (the
// quantisations or shards of one release) in requests of up to 100.
import { readFile } from 'node:fs/promises';
import { parseDuration } from '../core/duration.ts';
import type { ResponseOf, Wire } from '../api/wire.ts';
import { clientEnv } from '../config.ts';
import { parse } from './args.ts';
import { exchangeCiToken } from './ci-token.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { writeFileAtomic } from './files.ts';
import { contentClaimOf, describeContent, unsafeFiles } from './content-report.ts';
import { hashModel, layoutNote, type HashedModel, type HashOptions } from './hash.ts';
import { failureOf, request, serverUrl } from './http.ts';
import { defaultBundlePath } from './model-files.ts';

const USAGE = `Usage: modelsign sign PATH --model NAMESPACE/NAME --version V [--server URL] [--token T]
                      [--out FILE] [--ignore PATH]... [--allow-symlinks] [--allow-unsafe-content]
                      [--proof-wait DURATION] [--json]
       modelsign sign --batch FILE [--server URL] [--token T] [--ignore PATH]... [--allow-symlinks]
                      [--allow-unsafe-content] [--json]

Hashes PATH (a model folder or one file), has the service sign the manifest and writes the bundle:
model.sig inside a folder, FILE.sig beside a file (or --out). With --batch, FILE holds one JSON
object per line, {"path": ..., "model": ..., "version": ...} (and optionally "out"), signed in
requests of up to ${100} releases; each line's result is printed.

With a witnessed service (MODELSIGN_WITNESS_POLICY there), sign waits up to --proof-wait (30s;
0s: not at all) for the release's witness proof and writes it beside the bundle
(model.sig.tlog-proof, FILE.sig.tlog-proof), saying plainly when it could not (signing succeeded
either way; GET /v1/signatures/ID/tlog-proof fetches it later). --batch does not wait.

Every file goes through the content check while it is hashed (see \`modelsign scan\`): a file
that can run code when loaded (a pickle importing anything off the allowlist) or is malformed
stops the command before anything is sent, naming the file, unless --allow-unsafe-content. Each
file's verdict is recorded in the signed statement, so \`verify\` can say how the release was
checked. A Hugging Face cache snapshot is recognised (links followed only into its blobs/).

The server and token come from --server/--token or MODELSIGN_SERVER/MODELSIGN_TOKEN. With no
token, in a CI job that has an OIDC ID token (GitHub Actions with \`permissions: id-token: write\`,
or MODELSIGN_ID_TOKEN, e.g. from GitLab's id_tokens), the ID token is exchanged for a 15-minute
publisher token (trusted publishing); if that fails the command stops and says why.
Exit codes: 0 signed, 2 usage, 4 a path cannot be read, 5 the service cannot be reached or
failed, 6 the token or ID token was refused, 7 the service refused a release (e.g. the version is
signed with other files), 8 a file can run code when loaded or is malformed.`;

const BATCH_SIZE = 100;

interface Release {
  path: string;
  model: string;
  version: string;
  out?: string | undefined;
}

export async function sign(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      model: { type: 'string' },
      version: { type: 'string' },
      server: { type: 'string' },
      token: { type: 'string' },
      out: { type: 'string' },
      batch: { type: 'string' },
      ignore: { type: 'string', multiple: true, default: [] },
      'allow-symlinks': { type: 'boolean', default: false },
      'allow-unsafe-content': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'proof-wait': { type: 'string', default: '30s' },
    },
    USAGE,
  );
  const batch = values.batch;
  if (batch !== undefined ? positionals.length > 0 || values.model || values.version || values.out : positionals.length !== 1 || !values.model || !values.version) {
    throw new CliFailure(EXIT.usage, `give PATH, --model and --version, or --batch FILE alone\n\n${USAGE}`);
  }
  const env = clientEnv();
  const server = values.server ?? env.server;
  serverUrl(server);
  const releases: Release[] = batch !== undefined ? await readBatch(batch) : [{ path: positionals[0]!, model: values.model!, version: values.version!, out: values.out }];
  const token = await publisherToken(server!, values.token ?? env.token, values.json!);
  const options = { ignore: values.ignore!, allowSymlinks: values['allow-symlinks']!, progress: !values.json, check: true };
  // Every release is hashed and checked before any is sent: a refusal signs nothing.
  const models: HashedModel[] = [];
  for (const release of releases) models.push(await checkedModel(release, options, values['allow-unsafe-content']!, values.json!));
  let proofWaitMs: number;
  try {
    proofWaitMs = values['proof-wait'] === '0' || values['proof-wait'] === '0s' ? 0 : parseDuration(values['proof-wait']!);
  } catch {
    throw new CliFailure(EXIT.usage, `--proof-wait takes a duration such as 30s or 2m (0s: do not wait), got ${JSON.stringify(values['proof-wait'])}`);
  }
  if (batch === undefined) return signOne(server!, token, releases[0]!, models[0]!, values.json!, proofWaitMs);
  return signBatch(server!, token, releases, models, values.json!);
}

/** Hashes a release with the content check, and stops on unsafe content unless allowed. */
async function checkedModel(release: Release, options: HashOptions, allowUnsafe: boolean, json: boolean): Promise<HashedModel> {
  const model = await hashModel(release.path, options);
  const note = layoutNote(model.listing);
  if (note && !json) process.stderr.write(`${release.path}: ${note}\n`);
  const unsafe = unsafeFiles(model.files);
  if (unsafe.length === 0) return model;
  const lines = unsafe.map((f) => `  ${describeContent(f.path, f.content)}`).join('\n');
  if (!allowUnsafe) {
    throw new CliFailure(EXIT.unsafe, `refusing to sign ${release.model}@${release.version}: ${unsafe.length} file${unsafe.length > 1 ? 's' : ''} can run code when loaded or ${unsafe.length > 1 ? 'are' : 'is'} malformed (--allow-unsafe-content signs ${unsafe.length > 1 ? 'them' : 'it'} anyway, with the verdicts recorded)\n${lines}`);
  }
  process.stderr.write(`signing with unsafe content (--allow-unsafe-content), the verdicts recorded in the bundle:\n${lines}\n`);
  return model;
}

/** The token given, or one minted from the CI's ID token (never silently nothing). */
async function publisherToken(server: string, given: string | undefined, json: boolean): Promise<string> {
  if (given) return given;
  // Without a CI identity this stops with a usage error naming both ways to give a token.
  const minted = await exchangeCiToken(server, clientEnv().ci);
  if (!json) process.stderr.write(`trusted publishing: exchanged the ${minted.via} ID token for a 15-minute token of publisher ${minted.publisher}\n`);
  return minted.token;
}

async function readBatch(file: string): Promise<Release[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot read ${file}: ${(err as Error).message}`);
  }
  const releases: Release[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch {
      throw new CliFailure(EXIT.usage, `${file}:${i + 1}: not JSON; each line is {"path": ..., "model": ..., "version": ...}`);
    }
    const r = item as Partial<Release>;
    if (typeof r !== 'object' || r === null || typeof r.path !== 'string' || typeof r.model !== 'string' || typeof r.version !== 'string' || (r.out !== undefined && typeof r.out !== 'string')) {
      throw new CliFailure(EXIT.usage, `${file}:${i + 1}: each line needs "path", "model" and "version" strings (and optionally "out")`);
    }
    releases.push({ path: r.path, model: r.model, version: r.version, out: r.out });
  }
  if (releases.length === 0) throw new CliFailure(EXIT.usage, `${file} lists no releases`);
  return releases;
}

const requestOf = (release: Release, model: HashedModel) => ({
  model: release.model,
  version: release.version,
  files: model.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })),
  ...(model.ignorePaths.length > 0 ? { ignorePaths: model.ignorePaths } : {}),
  ...(model.listing.linked ? { allowSymlinks: true } : {}),
  contentCheck: contentClaimOf(model.files),
});

async function writeBundle(out: string, bundle: unknown): Promise<void> {
  try {
    await writeFileAtomic(out, JSON.stringify(bundle) + '\n');
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot write ${out}: ${(err as Error).message}`);
  }
}

/**
 * With a witnessed service: waits up to `waitMs` for the release's witness proof and writes it
 * beside the bundle (`model.sig.tlog-proof`, `FILE.sig.tlog-proof`); the path, or null (said
 * plainly on stderr, with the command that fetches it later). Without witnesses, null at once.
 */
async function fetchProof(server: string, id: string, out: string, waitMs: number, json: boolean): Promise<string | null> {
  const witnesses = await request(server, '/v1/log/witnesses');
  if (witnesses.status !== 200 || (witnesses.body as { configured?: unknown }).configured !== true || waitMs <= 0) return null;
  const file = `${out}.tlog-proof`;
  const end = performance.now() + waitMs;
  if (!json) process.stderr.write(`waiting up to ${Math.round(waitMs / 1000)} s for the witnesses to cosign a checkpoint covering it...\n`);
  for (;;) {
    const res = await request(server, `/v1/signatures/${encodeURIComponent(id)}/tlog-proof`);
    if (res.status === 200 && typeof res.body === 'string') {
      try {
        await writeFileAtomic(file, res.body);
      } catch (err) {
        throw new CliFailure(EXIT.io, `cannot write ${file}: ${(err as Error).message}`);
      }
      return file;
    }
    if (res.status !== 404 || performance.now() >= end) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  process.stderr.write(`no witness proof yet (the witnesses had not cosigned a checkpoint covering it within ${Math.round(waitMs / 1000)} s); the bundle is complete without it. Fetch it later: modelsign proof fetch ${out} (or GET ${new URL(`/v1/signatures/${id}/tlog-proof`, serverUrl(server)).href})\n`);
  return null;
}

async function signOne(server: string, token: string, release: Release, model: HashedModel, json: boolean, proofWaitMs: number): Promise<number> {
  const out = release.out ?? (await defaultBundlePath(release.path));
  const { status, body } = await request(server, '/v1/signatures', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(requestOf(release, model)),
  });
  if (status !== 200 && status !== 201) throw failureOf(status, body, 'the service did not sign');
  const signed = body as Wire['Signature'];
  await writeBundle(out, signed.bundle);
  const proof = await fetchProof(server, signed.id, out, proofWaitMs, json);
  const result = { bundle: out, proof, id: signed.id, kid: signed.kid, logIndex: signed.logIndex, rootDigest: model.rootDigest, files: model.files.length, created: status === 201 };
  process.stdout.write(
    json
      ? JSON.stringify(result) + '\n'
      : `${status === 201 ? 'signed' : 'already signed with the same files'}: ${release.model}@${release.version} (${model.files.length} files, root ${model.rootDigest.slice(0, 12)}), log entry ${signed.logIndex ?? 'pending'}; bundle written to ${out}${proof ? `, witness proof to ${proof}` : ''}\n`,
  );
  return EXIT.ok;
}

async function signBatch(server: string, token: string, releases: Release[], allModels: HashedModel[], json: boolean): Promise<number> {
  let refused = 0;
  for (let start = 0; start < releases.length; start += BATCH_SIZE) {
    const chunk = releases.slice(start, start + BATCH_SIZE);
    const models = allModels.slice(start, start + BATCH_SIZE);
    const { status, body } = await request(server, '/v1/signatures/batch', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ items: chunk.map((r, i) => requestOf(r, models[i]!)) }),
    });
    if (status !== 200) throw failureOf(status, body, 'the service did not sign the batch');
    const results = (body as ResponseOf<'signReleases', 200>).results;
    for (const [i, result] of results.entries()) {
      const release = chunk[i]!;
      const name = `${release.model}@${release.version}`;
      if (result.signature) {
        const out = release.out ?? (await defaultBundlePath(release.path));
        await writeBundle(out, result.signature.bundle);
        process.stdout.write(
          json
            ? JSON.stringify({ release: name, status: result.status, bundle: out, id: result.signature.id, logIndex: result.signature.logIndex, created: result.status === 201 }) + '\n'
            : `${result.status === 201 ? 'signed' : 'already signed with the same files'}: ${name}, log entry ${result.signature.logIndex ?? 'pending'}; bundle written to ${out}\n`,
        );
      } else {
        refused++;
        process.stdout.write(json ? JSON.stringify({ release: name, status: result.status, code: result.problem?.code, detail: result.problem?.detail }) + '\n' : `refused: ${name}: ${result.status} ${result.problem?.code}: ${result.problem?.detail}\n`);
      }
    }
  }
  if (refused > 0) {
    process.stderr.write(`modelsign: ${refused} of ${releases.length} releases were refused\n`);
    return EXIT.refused;
  }
  return EXIT.ok;
}
