// `modelsign log monitor`: checks that the log stays append-only between runs, as a CT/Go
// checksum-database monitor does. Each run verifies the newest checkpoint's signature with a
// trusted log key, proves it consistent with the checkpoint saved by the previous run, replays
// the new entries onto the saved right edge of the tree to check they are exactly what the new
// checkpoint commits to, and only then saves it. Run it from cron; a non-zero exit is an alarm.
import { clientEnv } from '../config.ts';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { bytesToHex, equalBytes, fromBase64, toBase64 } from '../core/bytes.ts';
import { appendLeaves, edgeRoot, type TreeEdge } from '../core/tlog/compact-range.ts';
import { leafHash } from '../core/tlog/hash.ts';
import { verifyCheckpoint, type SignedCheckpoint } from '../core/tlog/log-note.ts';
import { TlogError } from '../core/tlog/tlog-error.ts';
import { verifyConsistency } from '../core/tlog/verify-proof.ts';
import { keyIdOf, parseJwk, parseSpkiPem } from '../core/public-key.ts';
import { parse, UsageError } from './args.ts';
import { CliFailure } from './exit-codes.ts';
import { failureOf, request } from './http.ts';

const USAGE = `Usage: modelsign log monitor --server URL --state FILE [--log-key PEM_FILE] [--json]

Fetches the log's newest checkpoint and checks that the log only grew since the checkpoint saved
in FILE: the signature (by a trusted log key), a consistency proof, and every new entry. On the
first run the log keys the server lists are pinned in FILE (trust on first use) unless --log-key
names one; later runs trust only the pinned keys and --log-key.

Exit codes: 0 the log is consistent (state saved); 3 fork or rollback (the log rewrote or
dropped history; state kept); 4 the checkpoint is not signed by a trusted log key; 1 the server
or the state file could not be read; 2 usage.`;

export const EXIT = { ok: 0, io: 1, usage: 2, inconsistent: 3, untrusted: 4 } as const;

interface PinnedKey {
  kid: string;
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

// Failures end the run with the monitor's own exit codes; the HTTP plumbing is the client
// commands' (http.ts), whose failures all count as "could not read the server" here.
const MonitorFailure = CliFailure;

async function fetchText(server: URL, path: string): Promise<string> {
  let answer: { status: number; body: unknown };
  try {
    answer = await request(server.href, path, { headers: { accept: 'text/plain, application/json' } });
  } catch (err) {
    throw err instanceof CliFailure ? new MonitorFailure(EXIT.io, err.message) : err;
  }
  if (answer.status !== 200) throw new MonitorFailure(EXIT.io, failureOf(answer.status, answer.body, `${path} answered`).message);
  return typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
}

async function fetchJson(server: URL, path: string): Promise<any> {
  const text = await fetchText(server, path);
  try {
    return JSON.parse(text);
  } catch {
    throw new MonitorFailure(EXIT.io, `${path} did not answer JSON`);
  }
}

async function readState(file: string): Promise<MonitorState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MonitorFailure(EXIT.io, `cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const state = JSON.parse(text) as MonitorState;
    if (state.version !== 1 || !Array.isArray(state.frontier) || !Array.isArray(state.logKeys)) throw new Error('unknown layout');
    return state;
  } catch (err) {
    throw new MonitorFailure(EXIT.io, `${file} is not a monitor state file (${(err as Error).message}); move it away to start over`);
  }
}

async function saveState(file: string, state: MonitorState): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}

function verifyWithAny(note: string, keys: PinnedKey[]): { checkpoint: SignedCheckpoint; kid: string } {
  let lastError = 'no trusted log key';
  for (const k of keys) {
    try {
      return { checkpoint: verifyCheckpoint(note, fromBase64(k.publicKey)!), kid: k.kid };
    } catch (err) {
      if (err instanceof TlogError && err.code !== 'note_unverified') throw new MonitorFailure(EXIT.untrusted, `the checkpoint is malformed: ${err.message}`);
      lastError = (err as Error).message;
    }
  }
  throw new MonitorFailure(EXIT.untrusted, `the checkpoint is not signed by a trusted log key (${lastError})`);
}

/** Replays entries [from, to) onto `edge`, checking each entry's leaf hash against its data. */
async function replay(server: URL, edge: TreeEdge, to: number): Promise<TreeEdge> {
  let at = edge.size;
  while (at < to) {
    const page = await fetchJson(server, `/v1/log/entries?start=${at}&end=${to}`);
    const entries = page.entries as { index: number; leafHash: string; data: string }[];
    if (!Array.isArray(entries) || entries.length === 0) throw new MonitorFailure(EXIT.inconsistent, `the log served no entries from ${at}`);
    const hashes: Uint8Array[] = [];
    for (const e of entries) {
      const data = fromBase64(e.data);
      if (e.index !== at + hashes.length || !data) throw new MonitorFailure(EXIT.inconsistent, `entry ${at + hashes.length} is missing or malformed`);
      const h = leafHash(data);
      if (toBase64(h) !== e.leafHash) throw new MonitorFailure(EXIT.inconsistent, `entry ${e.index}: the leaf hash does not match its data`);
      hashes.push(h);
    }
    edge = appendLeaves(edge, hashes).edge;
    at = edge.size;
  }
  return edge;
}

export async function logMonitor(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    { server: { type: 'string' }, state: { type: 'string' }, 'log-key': { type: 'string' }, json: { type: 'boolean', default: false } },
    USAGE,
  );
  const serverText = values.server ?? clientEnv().server;
  if (!serverText) throw new UsageError(`--server (or MODELSIGN_SERVER) is required\n\n${USAGE}`);
  if (!values.state) throw new UsageError(`--state is required\n\n${USAGE}`);
  let server: URL;
  try {
    server = new URL(serverText);
    if (server.protocol !== 'http:' && server.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new UsageError(`--server must be an http(s) URL, got ${JSON.stringify(serverText)}`);
  }
  const report = (result: Record<string, unknown>, line: string, code: number) => {
    if (values.json) process.stdout.write(JSON.stringify({ ok: code === 0, exitCode: code, ...result }) + '\n');
    else (code === 0 ? process.stdout : process.stderr).write(`${line}\n`);
    return code;
  };
  try {
    const state = await readState(values.state);
    const keys: PinnedKey[] = [...(state?.logKeys ?? [])];
    if (values['log-key']) {
      const pem = await readFile(values['log-key'], 'utf8').catch((err: Error) => {
        throw new MonitorFailure(EXIT.io, `cannot read ${values['log-key']}: ${err.message}`);
      });
      const pub = parseSpkiPem(pem);
      if (!pub) throw new UsageError(`${values['log-key']} is not an Ed25519 public key in PEM`);
      if (!keys.some((k) => k.kid === keyIdOf(pub))) keys.push({ kid: keyIdOf(pub), publicKey: toBase64(pub) });
    }
    if (keys.length === 0) {
      // First run without a pinned key: trust the log keys the server lists now.
      const listed = await fetchJson(server, '/v1/keys');
      for (const k of listed.keys ?? []) {
        const pub = k.purpose === 'log' ? parseJwk(k) : undefined;
        if (pub && keyIdOf(pub) === k.kid) keys.push({ kid: k.kid, publicKey: toBase64(pub) });
      }
    }
    const note = await fetchText(server, '/v1/log/checkpoint');
    const { checkpoint, kid } = verifyWithAny(note, keys);
    let edge: TreeEdge;
    if (!state) {
      edge = await replay(server, { size: 0, frontier: [] }, checkpoint.size);
    } else {
      if (checkpoint.origin !== state.origin) throw new MonitorFailure(EXIT.inconsistent, `the log's origin changed from ${state.origin} to ${checkpoint.origin}`);
      const oldRoot = fromBase64(state.rootHash)!;
      if (checkpoint.size < state.size) {
        throw new MonitorFailure(EXIT.inconsistent, `rollback: the log shrank from ${state.size} to ${checkpoint.size} entries`);
      }
      if (checkpoint.size === state.size && !equalBytes(checkpoint.rootHash, oldRoot)) {
        throw new MonitorFailure(EXIT.inconsistent, `fork: two different trees of size ${state.size}`);
      }
      if (checkpoint.size > state.size && state.size > 0) {
        const proof = await fetchJson(server, `/v1/log/proofs/consistency?from=${state.size}&to=${checkpoint.size}`);
        try {
          verifyConsistency(state.size, checkpoint.size, (proof.hashes as string[]).map((h) => fromBase64(h) ?? new Uint8Array(0)), oldRoot, checkpoint.rootHash);
        } catch (err) {
          throw new MonitorFailure(EXIT.inconsistent, `fork: size ${checkpoint.size} is not an extension of the saved size ${state.size} (${(err as Error).message})`);
        }
      }
      edge = await replay(server, { size: state.size, frontier: state.frontier.map((h) => fromBase64(h)!) }, checkpoint.size);
    }
    if (!equalBytes(edgeRoot(edge), checkpoint.rootHash)) {
      throw new MonitorFailure(EXIT.inconsistent, `fork: the entries the log serves do not hash to the root of its checkpoint of size ${checkpoint.size}`);
    }
    const grew = checkpoint.size - (state?.size ?? 0);
    await saveState(values.state, {
      version: 1,
      origin: checkpoint.origin,
      size: checkpoint.size,
      rootHash: toBase64(checkpoint.rootHash),
      frontier: edge.frontier.map(toBase64),
      checkpoint: note,
      logKeys: keys,
      checkedAt: new Date().toISOString(),
    });
    return report(
      { origin: checkpoint.origin, size: checkpoint.size, previousSize: state?.size ?? null, rootHash: bytesToHex(checkpoint.rootHash), kid },
      state ? `ok: ${checkpoint.origin} grew by ${grew} to ${checkpoint.size} entries, consistent with the saved checkpoint` : `ok: first run, pinned ${checkpoint.origin} at ${checkpoint.size} entries (log key ${kid})`,
      EXIT.ok,
    );
  } catch (err) {
    if (err instanceof MonitorFailure) return report({ error: err.message }, `modelsign log monitor: ${err.message}`, err.exitCode);
    throw err;
  }
}
