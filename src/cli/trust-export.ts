// `modelsign trust export`: saves the service's Sigstore trusted root (GET /v1/trusted-root), the
// trust material sigstore-js, sigstore-go and cosign verify modelsign bundles with
// (`cosign verify-blob-attestation --trusted-root FILE`). Checked before it is written: the media
// type sigstore-go accepts, and at least one log whose ID is the C2SP key ID of its key.
import { clientEnv } from '../config.ts';
import { TRUSTED_ROOT_MEDIA_TYPE } from '../api/trusted-root.ts';
import { parse } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { writeFileAtomic } from './files.ts';
import { readFile } from 'node:fs/promises';
import type { Wire } from '../api/wire.ts';
import { TlogError } from '../core/tlog/tlog-error.ts';
import { parseWitnessPolicy, type WitnessPolicy } from '../core/tlog/witness-policy.ts';
import { keyIdHex } from '../core/tlog/vkey.ts';
import { fetchJson, serverUrl } from './http.ts';

const USAGE = `Usage: modelsign trust export [--server URL] [--out FILE] [--witness-policy-out FILE [--witness-policy PINNED]]

Fetches the service's Sigstore trusted root (its log keys and their validity) and writes it to
FILE (default: standard output), for Sigstore clients: sigstore-js, sigstore-go, cosign
(\`--trusted-root FILE\`). Release keys are not in it: give those tools the release key itself.
--witness-policy-out FILE also writes the witness policy the log's operator configured (the
witnesses it submits to and the quorum it aims for), for you to review and adopt as your own: a
verifier's policy is always its user's, never taken on trust from the server. With
--witness-policy PINNED, a warning says how the operator's policy differs from the one you pinned.
Exit codes: 0 written; 5 the service could not be reached or failed, or has no witnesses; 4 FILE
could not be written; 2 usage.`;

/** What two policies' witnesses and quorum are, for a reader: the differences, or none. */
function policyDifferences(pinned: WitnessPolicy, operator: WitnessPolicy): string[] {
  const keyOf = (p: WitnessPolicy) => new Map(p.witnesses.map((w) => [`${w.key.name}+${keyIdHex(w.key.keyId)}`, w.name]));
  const [mine, theirs] = [keyOf(pinned), keyOf(operator)];
  const out: string[] = [];
  for (const [k, name] of theirs) if (!mine.has(k)) out.push(`the operator's policy has witness ${name} (${k}), yours does not`);
  for (const [k, name] of mine) if (!theirs.has(k)) out.push(`your policy has witness ${name} (${k}), the operator's does not`);
  const shape = (p: WitnessPolicy) => JSON.stringify({ quorum: p.quorum, groups: p.groups });
  if (shape(pinned) !== shape(operator)) out.push('the groups or the quorum differ');
  return out;
}

async function exportWitnessPolicy(server: URL, out: string, pinnedFile: string | undefined): Promise<void> {
  const witnesses = (await fetchJson(server.href, '/v1/log/witnesses')) as Wire['LogWitnesses'];
  if (!witnesses.configured || !witnesses.policy) throw new CliFailure(EXIT.service, `${server.origin} submits its checkpoints to no witnesses (no MODELSIGN_WITNESS_POLICY there)`);
  let operator: WitnessPolicy;
  try {
    operator = parseWitnessPolicy(witnesses.policy);
  } catch (err) {
    throw new CliFailure(EXIT.service, `${server.origin}/v1/log/witnesses serves a policy that does not parse: ${(err as Error).message}`);
  }
  try {
    await writeFileAtomic(out, witnesses.policy, 0o644);
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot write ${out}: ${(err as Error).message}`);
  }
  process.stderr.write(`wrote the witness policy of ${server.origin} (${operator.witnesses.length} witness${operator.witnesses.length === 1 ? '' : 'es'}, quorum ${operator.quorum}) to ${out}: review it before you pin it\n`);
  if (pinnedFile === undefined) return;
  let pinned: WitnessPolicy;
  try {
    pinned = parseWitnessPolicy(await readFile(pinnedFile, 'utf8'));
  } catch (err) {
    throw new CliFailure(err instanceof TlogError ? EXIT.usage : EXIT.io, `${pinnedFile}: ${(err as Error).message}`);
  }
  const differences = policyDifferences(pinned, operator);
  for (const d of differences) process.stderr.write(`warning: ${d}\n`);
  if (differences.length === 0) process.stderr.write(`the operator's witnesses and quorum are those of ${pinnedFile}\n`);
}

export async function trustExport(args: string[]): Promise<number> {
  const { values } = parse(args, { server: { type: 'string' }, out: { type: 'string' }, 'witness-policy-out': { type: 'string' }, 'witness-policy': { type: 'string' } }, USAGE);
  const server = serverUrl(values.server ?? clientEnv().server);
  if (values['witness-policy'] !== undefined && values['witness-policy-out'] === undefined) throw new CliFailure(EXIT.usage, '--witness-policy is compared with the operator\'s: give --witness-policy-out FILE with it');
  if (values['witness-policy-out'] !== undefined) await exportWitnessPolicy(server, values['witness-policy-out'], values['witness-policy']);
  const root = (await fetchJson(server.href, '/v1/trusted-root')) as { mediaType?: unknown; tlogs?: unknown };
  if (root?.mediaType !== TRUSTED_ROOT_MEDIA_TYPE || !Array.isArray(root.tlogs) || root.tlogs.length === 0) {
    throw new CliFailure(EXIT.service, `${server.origin}/v1/trusted-root is not a Sigstore trusted root with a log`);
  }
  const text = JSON.stringify(root, null, 2) + '\n';
  if (!values.out) {
    process.stdout.write(text);
    return EXIT.ok;
  }
  try {
    await writeFileAtomic(values.out, text, 0o644);
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot write ${values.out}: ${(err as Error).message}`);
  }
  process.stderr.write(`wrote the trusted root of ${server.origin} (${root.tlogs.length} log key${root.tlogs.length === 1 ? '' : 's'}) to ${values.out}\n`);
  return EXIT.ok;
}
