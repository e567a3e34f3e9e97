// `log monitor --witness-policy FILE`: the split-view check. A log that shows this monitor one
// tree and its witnesses another is caught by comparing the checkpoint it serves here with the
// newest checkpoint each witness reports on its monitoring endpoint (C2SP tlog-witness: GET
// <prefix>/<hex sha256(origin)>/checkpoint; the prefix is the URL on the witness's policy line
// unless --monitoring NAME=URL gives another). A witness's view counts only when the log's key
// signed it and the witness's own cosignature on it verifies; then the two must be one tree: the
// same root at the same size, else a consistency proof from the smaller to the larger, asked of
// the log, must verify against both roots. A witness holding a larger tree than the log serves
// here can only be compared once the log serves that size (reported, not a failure: the quorum
// may simply not be met yet).
import { createHash } from 'node:crypto';
import { equalBytes, fromBase64 } from '../core/bytes.ts';
import type { PublicKey } from '../core/keys/key.ts';
import { parseCheckpoint, type Checkpoint } from '../core/tlog/checkpoint.ts';
import { verifyCosignature } from '../core/tlog/cosignature.ts';
import { verifyCheckpoint } from '../core/tlog/log-note.ts';
import { parseSignedNote } from '../core/tlog/signed-note.ts';
import { verifyConsistency } from '../core/tlog/verify-proof.ts';
import type { WitnessPolicy } from '../core/tlog/witness-policy.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { request } from './http.ts';

export interface WitnessComparison {
  witness: string;
  /** agrees: one tree; ahead: it holds a larger tree than the log serves here; none: no checkpoint of this log; unreadable: no answer or not a valid view. */
  status: 'agrees' | 'ahead' | 'none' | 'unreadable';
  size?: number;
  detail?: string;
}

/** `NAME=URL` pairs of --monitoring. */
export function monitoringOverrides(items: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    const at = item.indexOf('=');
    const url = at > 0 ? item.slice(at + 1).replace(/\/$/, '') : '';
    if (at <= 0 || !/^https?:\/\//.test(url)) throw new CliFailure(EXIT.usage, `--monitoring takes NAME=URL (a witness of the policy and its monitoring prefix), not ${JSON.stringify(item)}`);
    out.set(item.slice(0, at), url);
  }
  return out;
}

async function fetchNote(url: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, text: (await res.text()).slice(0, 256 * 1024) };
  } catch {
    return undefined;
  }
}

/**
 * Compares `served` (the checkpoint the log serves here, verified) with every witness's view;
 * exit 9 naming the first witness whose view is another tree.
 */
export async function checkWitnessViews(o: { server: URL; served: Checkpoint; logKeys: readonly PublicKey[]; policy: WitnessPolicy; overrides: Map<string, string> }): Promise<WitnessComparison[]> {
  for (const name of o.overrides.keys()) if (!o.policy.witnesses.some((w) => w.name === name)) throw new CliFailure(EXIT.usage, `--monitoring names ${name}, which is not a witness of the policy`);
  const views: WitnessComparison[] = [];
  const hash = createHash('sha256').update(o.served.origin).digest('hex');
  for (const w of o.policy.witnesses) {
    const prefix = o.overrides.get(w.name) ?? w.url?.replace(/\/$/, '');
    if (!prefix) {
      views.push({ witness: w.name, status: 'unreadable', detail: 'no monitoring URL (give --monitoring NAME=URL)' });
      continue;
    }
    const answer = await fetchNote(`${prefix}/${hash}/checkpoint`);
    if (!answer || (answer.status !== 200 && answer.status !== 404)) {
      views.push({ witness: w.name, status: 'unreadable', detail: answer ? `its monitoring endpoint answered ${answer.status}` : 'its monitoring endpoint did not answer' });
      continue;
    }
    if (answer.status === 404) {
      views.push({ witness: w.name, status: 'none' });
      continue;
    }
    let seen: Checkpoint;
    try {
      const note = parseSignedNote(answer.text);
      seen = parseCheckpoint(note.text);
      if (seen.origin !== o.served.origin) throw new Error(`it is a checkpoint of ${seen.origin}`);
      if (!o.logKeys.some((key) => isSignedBy(answer.text, key))) throw new Error('it is not signed by a trusted log key');
      const line = note.signatures.find((s) => s.name === w.key.name && s.keyId === w.key.keyId);
      if (!line) throw new Error('it carries no cosignature of this witness');
      verifyCosignature(w.key, line.signature, seen, note.text, Number.MAX_SAFE_INTEGER / 2);
    } catch (err) {
      views.push({ witness: w.name, status: 'unreadable', detail: `its view is not a checkpoint it cosigned: ${(err as Error).message}` });
      continue;
    }
    const differ = (why: string) => new CliFailure(EXIT.history, `split view: witness ${w.name} cosigned a tree of size ${seen.size} that is not the one this log shows here at size ${o.served.size} (${why})`);
    if (seen.size === o.served.size) {
      if (!equalBytes(seen.rootHash, o.served.rootHash)) throw differ('the same size with another root');
      views.push({ witness: w.name, status: 'agrees', size: seen.size });
      continue;
    }
    const [small, large] = seen.size < o.served.size ? [seen, o.served] : [o.served, seen];
    if (small.size === 0) {
      views.push({ witness: w.name, status: 'agrees', size: seen.size });
      continue;
    }
    const proof = await request(o.server.href, `/v1/log/proofs/consistency?from=${small.size}&to=${large.size}`);
    if (proof.status !== 200) {
      if (seen.size > o.served.size) {
        views.push({ witness: w.name, status: 'ahead', size: seen.size, detail: `the log serves ${o.served.size} here and proves nothing beyond it yet` });
        continue;
      }
      throw differ(`the log answered ${proof.status} for a consistency proof from ${small.size} to ${large.size}`);
    }
    const hashes = ((proof.body as { hashes?: unknown }).hashes ?? []) as string[];
    try {
      verifyConsistency(small.size, large.size, hashes.map((h) => fromBase64(h) ?? new Uint8Array(0)), small.rootHash, large.rootHash);
    } catch (err) {
      throw differ(`the log's consistency proof from ${small.size} to ${large.size} does not join them: ${(err as Error).message}`);
    }
    views.push({ witness: w.name, status: 'agrees', size: seen.size });
  }
  return views;
}

function isSignedBy(note: string, key: PublicKey): boolean {
  try {
    verifyCheckpoint(note, key);
    return true;
  } catch {
    return false;
  }
}
