// `modelsign proof fetch BUNDLE`: gets the witness proof (C2SP tlog-proof) of a release signed
// before, from a witnessed service (GET /v1/signatures/{id}/tlog-proof), and writes it where
// `verify --witness-policy` finds it. A folder release whose signed ignore paths lack the proof's
// name gets it outside the folder (older clients and OpenSSF model_signing would count it as an
// extra file there), and the command says which --proof to give.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Wire } from '../api/wire.ts';
import { clientEnv } from '../config.ts';
import { readClaim, readEnvelope } from '../core/read-bundle.ts';
import { PROOF_FILE_NAME, parseTlogProof } from '../core/tlog/tlog-proof.ts';
import { parseDecimal } from '../core/guards.ts';
import { parse } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { writeFileAtomic } from './files.ts';
import { failureOf, request, serverUrl } from './http.ts';

const USAGE = `Usage: modelsign proof fetch BUNDLE [--server URL] [--out FILE]

Fetches the witness proof (C2SP tlog-proof) of the release BUNDLE signs from a witnessed service and
writes it where \`verify --witness-policy\` looks: FILE.sig.tlog-proof beside a single file's
FILE.sig, model.sig.tlog-proof beside a folder's model.sig when the release's signed ignore paths
name it (releases signed since 0.2), and otherwise next to the folder (FOLDER.tlog-proof), with the
--proof to pass (older clients and OpenSSF model_signing would count it as an extra file inside).
Exit codes: 0 written; 7 no witnessed checkpoint covers the release yet, or the service has no
witnesses; 5 the service could not be reached or failed; 4 a file could not be read or written; 2 usage.`;

export async function proofFetch(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { server: { type: 'string' }, out: { type: 'string' } }, USAGE);
  if (positionals.length !== 1) throw new CliFailure(EXIT.usage, `give one BUNDLE\n\n${USAGE}`);
  const bundlePath = positionals[0]!;
  const server = serverUrl(values.server ?? clientEnv().server).href;
  let bundle: unknown;
  try {
    bundle = JSON.parse(await readFile(bundlePath, 'utf8'));
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot read the bundle ${bundlePath}: ${(err as Error).message}`);
  }
  const envelope = readEnvelope(bundle);
  const claim = envelope.ok ? readClaim(envelope.value.payload) : undefined;
  if (!envelope.ok || !claim?.ok || claim.value.model === null) throw new CliFailure(EXIT.tampered, `${bundlePath} is not a modelsign bundle of a release`);
  const index = parseDecimal((envelope.value.tlogEntries[0] as { logIndex?: unknown } | undefined)?.logIndex);
  if (index === undefined) throw new CliFailure(EXIT.tampered, `${bundlePath} carries no log entry`);
  const { model, version } = claim.value;
  const listed = await request(server, `/v1/signatures?model=${encodeURIComponent(model)}&version=${encodeURIComponent(version!)}&limit=10`);
  if (listed.status !== 200) throw failureOf(listed.status, listed.body, 'the service did not list the release');
  const item = (listed.body as Wire['SignatureList']).items.find((s) => s.logIndex === index);
  if (!item) throw new CliFailure(EXIT.refused, `${server} has no signature of ${model}@${version} at log index ${index}`);
  const res = await request(server, `/v1/signatures/${encodeURIComponent(item.id)}/tlog-proof`);
  if (res.status !== 200 || typeof res.body !== 'string') throw failureOf(res.status, res.body, 'the service has no witness proof for it');
  if (parseTlogProof(res.body).index !== index) throw new CliFailure(EXIT.service, `the proof served is for another log index than ${index}`);
  const folderRelease = path.basename(bundlePath) === 'model.sig';
  const signedName = claim.value.ignorePaths.includes(PROOF_FILE_NAME);
  const out = values.out ?? (!folderRelease || signedName ? `${bundlePath}.tlog-proof` : `${path.resolve(path.dirname(bundlePath))}.tlog-proof`);
  try {
    await writeFileAtomic(out, res.body);
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot write ${out}: ${(err as Error).message}`);
  }
  const beside = out === `${bundlePath}.tlog-proof`;
  process.stderr.write(`wrote the witness proof of ${model}@${version} (log index ${index}) to ${out}${beside ? '' : `; verify with --proof ${out}`}\n`);
  return EXIT.ok;
}
