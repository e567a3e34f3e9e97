// `modelsign log monitor`: checks that the log stays append-only between runs, as a CT/Go
// checksum-database monitor does. Each run verifies the newest checkpoint's signature with a
// trusted log key, proves it consistent with the checkpoint saved by the previous run, replays
// the new entries onto the saved right edge of the tree to check they are exactly what the new
// checkpoint commits to (and that each entry's body commits to the payload and release served
// with it), and only then saves it. Run it from cron; a non-zero exit is an alarm.
import { readFile } from 'node:fs/promises';
import type { Wire } from '../api/wire.ts';
import { clientEnv } from '../config.ts';
import { bytesToHex, equalBytes, fromBase64, toBase64 } from '../core/bytes.ts';
import { keyIdOf, parseJwk, parseSpkiPem } from '../core/crypto/public-key.ts';
import { DEFAULT_ALGORITHM, isAlgorithmId } from '../core/crypto/registry.ts';
import type { PublicKey } from '../core/keys/key.ts';
import { appendLeaves, edgeRoot, type TreeEdge } from '../core/tlog/compact-range.ts';
import { entryContentProblem } from '../core/tlog/entries/entry-content.ts';
import { leafHash, portableSha256 } from '../core/tlog/hash.ts';
import { verifyCheckpoint, type SignedCheckpoint } from '../core/tlog/log-note.ts';
import { TlogError } from '../core/tlog/tlog-error.ts';
import { verifyConsistency } from '../core/tlog/verify-proof.ts';
import { parse } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { monitorTiles } from './log-monitor-tiles.ts';
import { checkWitnessViews, monitoringOverrides } from './witness-views.ts';
import { parseWitnessPolicy, type WitnessPolicy } from '../core/tlog/witness-policy.ts';
import { readStateFile, writeStateFile } from './state-file.ts';
import { failureOf, fetchJson, request, serverUrl } from './http.ts';

const USAGE = `Usage: modelsign log monitor --server URL --state FILE [--log-key PEM_FILE] [--witness-policy FILE [--monitoring NAME=URL]...] [--json]
       modelsign log monitor --tiles URL --vkey VKEY --state FILE [--server URL] [--json]

Fetches the log's newest checkpoint and checks that the log only grew since the checkpoint saved
in FILE: the signature (by a trusted log key), a consistency proof, and every new entry. On the
first run the log keys the server lists are pinned in FILE (trust on first use) unless --log-key
names one; later runs trust only the pinned keys and --log-key.

With --witness-policy, also compares the checkpoint the log serves with the newest one each of
the policy's witnesses reports on its monitoring endpoint (GET <URL>/<hex sha256(origin)>/checkpoint;
the URL of its policy line, or --monitoring NAME=URL): a witness that cosigned another tree (the same
size with another root, or no consistency proof joining the two) is a split view: exit 9, naming it.

With --tiles, reads any C2SP tlog-tiles log (a modelsign service's URL/v1/log, a \`log mirror\`, or
another log) by its tiles alone: the checkpoint against the note key (--vkey on the first run,
pinned in FILE), and every new entry bundle against its level-0 hashes, replayed onto the saved
tree. A modelsign mirror's side files, or --server, give each entry's content to check.

Exit codes: 0 the log is consistent (state saved); 9 fork or rollback (the log rewrote or
dropped history, or an entry does not match its hash or its content; state kept); 3 the checkpoint is not signed by a trusted log key; 5 the server
could not be reached or failed; 4 the state file could not be read or written; 2 usage.`;

interface PinnedKey {
  kid: string;
  /** Absent in state files written before keys named their algorithm: the default one. */
  algorithm?: string;
  publicKey: string;
}

interface MonitorState {
  version: 1;
  origin: string;
  size: number;
  rootHash: string;
  frontier: string[];
  checkpoint: string;
  logKeys: PinnedKey[];
  checkedAt: string;
}

async function fetchText(server: URL, path: string): Promise<string> {
  const answer = await request(server.href, path, { headers: { accept: 'text/plain, application/json' } });
  if (answer.status !== 200) throw new CliFailure(EXIT.service, failureOf(answer.status, answer.body, `${path} answered`).message);
  return typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
}

const pinnedKey = (k: PinnedKey): PublicKey | undefined => {
  const publicKey = fromBase64(k.publicKey);
  const algorithm = k.algorithm ?? DEFAULT_ALGORITHM;
  return publicKey && isAlgorithmId(algorithm) ? { algorithm, publicKey } : undefined;
};

const pin = (key: PublicKey): PinnedKey => ({ kid: keyIdOf(key), algorithm: key.algorithm, publicKey: toBase64(key.publicKey) });

const readState = (file: string) =>
  readStateFile<MonitorState>(file, 'a monitor state file', (s) => s.version === 1 && Array.isArray(s.frontier) && Array.isArray(s.logKeys));

function verifyWithAny(note: string, keys: PinnedKey[]): { checkpoint: SignedCheckpoint; kid: string } {
  let lastError = 'no trusted log key';
  for (const k of keys) {
    const key = pinnedKey(k);
    if (!key) continue;
    try {
      return { checkpoint: verifyCheckpoint(note, key), kid: k.kid };
    } catch (err) {
      if (err instanceof TlogError && err.code !== 'note_unverified') throw new CliFailure(EXIT.untrusted, `the checkpoint is malformed: ${err.message}`);
      lastError = (err as Error).message;
    }
  }
  throw new CliFailure(EXIT.untrusted, `the checkpoint is not signed by a trusted log key (${lastError})`);
}

async function readPolicy(file: string): Promise<WitnessPolicy> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new CliFailure(EXIT.io, `cannot read ${file}: ${err.message}`);
  });
  try {
    return parseWitnessPolicy(text);
  } catch (err) {
    throw new CliFailure(EXIT.usage, `${file}: ${(err as Error).message}`);
  }
}

/** An entry as served; a server before 0.2 serves only its index, leaf hash and data. */
type PageEntry = Pick<Wire['LogEntries']['entries'][number], 'index' | 'leafHash' | 'data'> & Partial<Wire['LogEntries']['entries'][number]>;

/**
 * Replays entries [from, to) onto `edge`, checking each entry's leaf hash against its data and
 * that its body commits to the payload and release served with it (core/tlog/entries/entry-content.ts);
 * a server before 0.2 serves neither, and only the hashes are checked.
 */
async function replay(server: URL, edge: TreeEdge, to: number): Promise<{ edge: TreeEdge; contentChecked: number }> {
  let at = edge.size;
  let contentChecked = 0;
  while (at < to) {
    const page = (await fetchJson(server.href, `/v1/log/entries?start=${at}&end=${to}`)) as { entries?: unknown };
    const entries = page.entries as PageEntry[];
    if (!Array.isArray(entries) || entries.length === 0) throw new CliFailure(EXIT.history, `the log served no entries from ${at}`);
    const hashes: Uint8Array[] = [];
    for (const e of entries) {
      const data = fromBase64(e.data);
      if (e.index !== at + hashes.length || !data) throw new CliFailure(EXIT.history, `entry ${at + hashes.length} is missing or malformed`);
      const h = leafHash(data);
      if (toBase64(h) !== e.leafHash) throw new CliFailure(EXIT.history, `entry ${e.index}: the leaf hash does not match its data`);
      if (e.kindVersion !== undefined) {
        const payload = typeof e.payload === 'string' ? fromBase64(e.payload) : undefined;
        if (!payload || !e.release || typeof e.payloadType !== 'string') throw new CliFailure(EXIT.history, `entry ${e.index}: served without its payload and release`);
        const problem = entryContentProblem({ kindVersion: e.kindVersion, data, payloadType: e.payloadType, payload, release: e.release }, portableSha256);
        if (problem) throw new CliFailure(EXIT.history, `entry ${e.index} (${e.release.model}@${e.release.version}): ${problem}`);
        contentChecked++;
      }
      hashes.push(h);
    }
    edge = appendLeaves(edge, hashes).edge;
    at = edge.size;
  }
  return { edge, contentChecked };
}

export async function logMonitor(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      server: { type: 'string' },
      state: { type: 'string' },
      'log-key': { type: 'string' },
      tiles: { type: 'string' },
      vkey: { type: 'string' },
      'witness-policy': { type: 'string' },
      monitoring: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (!values.state) throw new CliFailure(EXIT.usage, `--state is required\n\n${USAGE}`);
  if (values.tiles && values['log-key']) throw new CliFailure(EXIT.usage, '--tiles takes the log\'s note key (--vkey), not --log-key');
  if (!values.tiles && values.vkey) throw new CliFailure(EXIT.usage, '--vkey goes with --tiles');
  if (values.tiles && values['witness-policy']) throw new CliFailure(EXIT.usage, '--witness-policy is not yet read with --tiles: monitor the service (--server) for split views');
  if (values.monitoring && !values['witness-policy']) throw new CliFailure(EXIT.usage, '--monitoring goes with --witness-policy');
  const report = (result: Record<string, unknown>, line: string, code: number) => {
    if (values.json) process.stdout.write(JSON.stringify({ ok: code === 0, exitCode: code, ...result }) + '\n');
    else (code === 0 ? process.stdout : process.stderr).write(`${line}\n`);
    return code;
  };
  try {
    if (values.tiles) {
      const { line, ...result } = await monitorTiles({ tiles: values.tiles, vkey: values.vkey, state: values.state, server: values.server ? serverUrl(values.server) : undefined });
      return report(result, line, EXIT.ok);
    }
    const server = serverUrl(values.server ?? clientEnv().server);
    const policy = values['witness-policy'] ? await readPolicy(values['witness-policy']) : undefined;
    const state = await readState(values.state);
    const keys: PinnedKey[] = [...(state?.logKeys ?? [])];
    if (values['log-key']) {
      const pem = await readFile(values['log-key'], 'utf8').catch((err: Error) => {
        throw new CliFailure(EXIT.io, `cannot read ${values['log-key']}: ${err.message}`);
      });
      const pub = parseSpkiPem(pem);
      if (!pub) throw new CliFailure(EXIT.usage, `${values['log-key']} is not a public key in PEM (SPKI) of a known algorithm`);
      if (!keys.some((k) => k.kid === keyIdOf(pub))) keys.push(pin(pub));
    }
    if (keys.length === 0) {
      // First run without a pinned key: trust the log keys the server lists now.
      const listed = (await fetchJson(server.href, '/v1/keys')) as { keys?: Record<string, unknown>[] };
      for (const k of listed.keys ?? []) {
        const pub = k.purpose === 'log' ? parseJwk(k) : undefined;
        if (pub && keyIdOf(pub) === k.kid) keys.push(pin(pub));
      }
    }
    const note = await fetchText(server, '/v1/log/checkpoint');
    const { checkpoint, kid } = verifyWithAny(note, keys);
    let replayed: { edge: TreeEdge; contentChecked: number };
    if (!state) {
      replayed = await replay(server, { size: 0, frontier: [] }, checkpoint.size);
    } else {
      if (checkpoint.origin !== state.origin) throw new CliFailure(EXIT.history, `the log's origin changed from ${state.origin} to ${checkpoint.origin}`);
      const oldRoot = fromBase64(state.rootHash)!;
      if (checkpoint.size < state.size) {
        throw new CliFailure(EXIT.history, `rollback: the log shrank from ${state.size} to ${checkpoint.size} entries`);
      }
      if (checkpoint.size === state.size && !equalBytes(checkpoint.rootHash, oldRoot)) {
        throw new CliFailure(EXIT.history, `fork: two different trees of size ${state.size}`);
      }
      if (checkpoint.size > state.size && state.size > 0) {
        const proof = (await fetchJson(server.href, `/v1/log/proofs/consistency?from=${state.size}&to=${checkpoint.size}`)) as { hashes: string[] };
        try {
          verifyConsistency(state.size, checkpoint.size, (proof.hashes as string[]).map((h) => fromBase64(h) ?? new Uint8Array(0)), oldRoot, checkpoint.rootHash);
        } catch (err) {
          throw new CliFailure(EXIT.history, `fork: size ${checkpoint.size} is not an extension of the saved size ${state.size} (${(err as Error).message})`);
        }
      }
      replayed = await replay(server, { size: state.size, frontier: state.frontier.map((h) => fromBase64(h)!) }, checkpoint.size);
    }
    const { edge, contentChecked } = replayed;
    if (!equalBytes(edgeRoot(edge), checkpoint.rootHash)) {
      throw new CliFailure(EXIT.history, `fork: the entries the log serves do not hash to the root of its checkpoint of size ${checkpoint.size}`);
    }
    const grew = checkpoint.size - (state?.size ?? 0);
    // Split views: what the witnesses cosigned must be this tree (before the state moves on).
    const views = policy ? await checkWitnessViews({ server, served: checkpoint, logKeys: keys.map(pinnedKey).filter((k): k is PublicKey => k !== undefined), policy, overrides: monitoringOverrides(values.monitoring ?? []) }) : undefined;
    await writeStateFile(values.state, {
      version: 1,
      origin: checkpoint.origin,
      size: checkpoint.size,
      rootHash: toBase64(checkpoint.rootHash),
      frontier: edge.frontier.map(toBase64),
      checkpoint: note,
      logKeys: keys,
      checkedAt: new Date().toISOString(),
    });
    const witnessLine = views ? `; witnesses: ${views.map((v) => `${v.witness} ${v.status}${v.size !== undefined ? ` at ${v.size}` : ''}${v.detail ? ` (${v.detail})` : ''}`).join(', ')}` : '';
    return report(
      { origin: checkpoint.origin, size: checkpoint.size, previousSize: state?.size ?? null, rootHash: bytesToHex(checkpoint.rootHash), kid, contentChecked, ...(views ? { witnesses: views } : {}) },
      (state ? `ok: ${checkpoint.origin} grew by ${grew} to ${checkpoint.size} entries, consistent with the saved checkpoint` : `ok: first run, pinned ${checkpoint.origin} at ${checkpoint.size} entries (log key ${kid})`) + witnessLine,
      EXIT.ok,
    );
  } catch (err) {
    if (err instanceof CliFailure) return report({ error: err.message }, `modelsign log monitor: ${err.message}`, err.exitCode);
    throw err;
  }
}
