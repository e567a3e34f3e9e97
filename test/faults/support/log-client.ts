// Reading and checking the log of a running service the way an outside monitor would: signed
// checkpoints verified with the published log keys, consistency proofs verified between them.
import assert from 'node:assert/strict';
import { fromBase64 } from '../../../src/core/bytes.ts';
import { parseJwk } from '../../../src/core/crypto/public-key.ts';
import type { TrustedKey } from '../../../src/core/keys/key.ts';
import { verifyCheckpoint, type SignedCheckpoint } from '../../../src/core/tlog/log-note.ts';
import { verifyConsistency } from '../../../src/core/tlog/verify-proof.ts';

export async function publishedKeys(base: string): Promise<TrustedKey[]> {
  const res = await fetch(`${base}/v1/keys`);
  assert.equal(res.status, 200);
  const { keys } = (await res.json()) as { keys: Array<{ kid: string; x: string; purpose: TrustedKey['purpose']; status: TrustedKey['status']; compromisedAt: string | null }> };
  return keys.map((k) => ({ kid: k.kid, ...parseJwk(k)!, purpose: k.purpose, status: k.status, compromisedAt: k.compromisedAt ? new Date(k.compromisedAt) : null }));
}

/** The service's newest checkpoint, its signature checked against the log keys it publishes. */
export async function signedCheckpoint(base: string, keys?: TrustedKey[]): Promise<SignedCheckpoint> {
  const res = await fetch(`${base}/v1/log/checkpoint`);
  assert.equal(res.status, 200);
  const note = await res.text();
  const logKeys = (keys ?? (await publishedKeys(base))).filter((k) => k.purpose === 'log');
  for (const key of logKeys) {
    try {
      return verifyCheckpoint(note, key);
    } catch {
      /* signed by another of the log keys */
    }
  }
  throw new Error(`no published log key verifies the checkpoint:\n${note}`);
}

/** Asks for a consistency proof between two checkpoints and verifies it against their signed roots. */
export async function assertConsistent(base: string, older: SignedCheckpoint, newer: SignedCheckpoint): Promise<void> {
  assert.ok(newer.size >= older.size, `the log shrank from ${older.size} to ${newer.size}`);
  if (older.size === 0) return;
  const res = await fetch(`${base}/v1/log/proofs/consistency?from=${older.size}&to=${newer.size}`);
  assert.equal(res.status, 200, await res.clone().text());
  const proof = (await res.json()) as { hashes: string[] };
  verifyConsistency(older.size, newer.size, proof.hashes.map((h) => fromBase64(h)!), older.rootHash, newer.rootHash);
}
