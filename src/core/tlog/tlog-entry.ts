// The `verificationMaterial.tlogEntries[]` item of a bundle, in the JSON shape of Sigstore's
// TransparencyLogEntry (int64 fields as decimal strings, bytes as base64):
//   logIndex, logId.keyId (base64 of the log key's kid bytes), kindVersion,
//   integratedTime (the checkpoint's cosignature time, POSIX seconds),
//   inclusionProof {logIndex, rootHash, treeSize, hashes[], checkpoint.envelope (signed note)},
//   canonicalizedBody (base64 of the leaf data, made by the entry's kind: entries/).
// The checkpoint is the first one the log signed that covers the entry, so the bundle is the
// same whenever it is fetched and integratedTime is the earliest signed time for the entry.
import { bytesToHex, equalBytes, fromBase64, hexToBytes, isSha256Hex, toBase64 } from '../bytes.ts';
import { isObject, parseDecimal } from '../guards.ts';
import type { KeyPurpose, KeyStatus, PublicKey } from '../keys/key.ts';
import type { Reason } from '../verdict.ts';
import type { EntryFacts, KindVersion } from './entries/entry-kind.ts';
import { entryKindOf } from './entries/registry.ts';
import { RFC6962, type LogHasher } from './hash.ts';
import { verifyCheckpoint, type SignedCheckpoint } from './log-note.ts';
import { TlogError } from './tlog-error.ts';
import { verifyInclusion } from './verify-proof.ts';

export interface TlogEntry {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime: string;
  inclusionProof: {
    logIndex: string;
    rootHash: string;
    treeSize: string;
    hashes: string[];
    checkpoint: { envelope: string };
  };
  canonicalizedBody: string;
}

export interface TlogEntryParts {
  index: number;
  logKid: string;
  checkpoint: SignedCheckpoint;
  proof: readonly Uint8Array[];
  kindVersion: Readonly<KindVersion>;
  leaf: Uint8Array;
}

export function buildTlogEntry(p: TlogEntryParts): TlogEntry {
  return {
    logIndex: String(p.index),
    logId: { keyId: toBase64(hexToBytes(p.logKid)) },
    kindVersion: { kind: p.kindVersion.kind, version: p.kindVersion.version },
    integratedTime: String(p.checkpoint.timestamp ?? 0),
    inclusionProof: {
      logIndex: String(p.index),
      rootHash: toBase64(p.checkpoint.rootHash),
      treeSize: String(p.checkpoint.size),
      hashes: p.proof.map(toBase64),
      checkpoint: { envelope: p.checkpoint.note },
    },
    canonicalizedBody: toBase64(p.leaf),
  };
}

export interface LogKey extends PublicKey {
  kid: string;
  purpose: KeyPurpose;
  status: KeyStatus;
}

export interface VerifiedTlogEntry {
  logIndex: number;
  logKid: string;
  treeSize: number;
  /** POSIX seconds from the log's signed timestamp; the entry was logged before this second ended. */
  integratedTime: number | null;
}

type Result = { ok: true; value: VerifiedTlogEntry } | { ok: false; reasons: Reason[] };
const refuse = (code: Reason['code'], message: string): Result => ({ ok: false, reasons: [{ code, message }] });

/**
 * Checks one entry against the facts of the bundle and a trusted log key: the entry's kind makes
 * the leaf from the facts; then the checkpoint's signature, that the proof is for the
 * checkpoint's tree, and the inclusion proof of the leaf. Returns reasons rather than throwing,
 * like verifyBundle.
 */
export function checkTlogEntry(entry: unknown, facts: EntryFacts, resolveKey: (kid: string) => LogKey | undefined, hasher: LogHasher = RFC6962): Result {
  if (!isObject(entry) || !isObject(entry.logId) || !isObject(entry.inclusionProof) || !isObject(entry.inclusionProof.checkpoint)) {
    return refuse('tlog_entry_malformed', 'a tlog entry needs logId, inclusionProof and inclusionProof.checkpoint');
  }
  const kind = entryKindOf(entry.kindVersion);
  if (!kind) return refuse('tlog_entry_malformed', `the tlog entry's kindVersion ${JSON.stringify(entry.kindVersion)?.slice(0, 80)} is not a kind this verifier knows`);
  const leaf = kind.leafData(facts);
  const proof = entry.inclusionProof;
  const index = parseDecimal(entry.logIndex);
  const proofIndex = parseDecimal(proof.logIndex);
  const treeSize = parseDecimal(proof.treeSize);
  const rootHash = typeof proof.rootHash === 'string' ? fromBase64(proof.rootHash) : undefined;
  const hashes = Array.isArray(proof.hashes) && proof.hashes.length <= 64 ? proof.hashes.map((h) => (typeof h === 'string' ? fromBase64(h) : undefined)) : undefined;
  const logKeyId = typeof entry.logId.keyId === 'string' ? fromBase64(entry.logId.keyId) : undefined;
  const envelope = (proof.checkpoint as Record<string, unknown>).envelope;
  if (index === undefined || proofIndex !== index || treeSize === undefined || !rootHash || !hashes || hashes.some((h) => !h) || !logKeyId || logKeyId.length !== 32 || typeof envelope !== 'string') {
    return refuse('tlog_entry_malformed', 'the tlog entry has a malformed index, tree size, root hash, proof hash, log id or checkpoint');
  }
  if (entry.canonicalizedBody !== undefined && entry.canonicalizedBody !== toBase64(leaf)) {
    return refuse('tlog_body_mismatch', 'the entry\'s canonicalizedBody is not the leaf data of this bundle');
  }
  const logKid = bytesToHex(logKeyId);
  const key = isSha256Hex(logKid) ? resolveKey(logKid) : undefined;
  if (!key || key.purpose !== 'log') return refuse('log_key_unknown', `the log key ${logKid} is not a trusted log key`);
  if (key.status === 'revoked' || key.status === 'pending') return refuse('log_key_unknown', `the log key ${logKid} is ${key.status}`);
  let checkpoint: SignedCheckpoint;
  try {
    checkpoint = verifyCheckpoint(envelope, key);
  } catch (err) {
    return refuse('checkpoint_signature_invalid', err instanceof TlogError ? err.message : 'the checkpoint does not verify');
  }
  if (checkpoint.size !== treeSize || !equalBytes(checkpoint.rootHash, rootHash)) {
    return refuse('checkpoint_mismatch', `the proof is for tree size ${treeSize}, the checkpoint is for ${checkpoint.size} with another root`);
  }
  if (entry.integratedTime !== undefined && entry.integratedTime !== String(checkpoint.timestamp ?? 0)) {
    return refuse('checkpoint_mismatch', 'integratedTime differs from the checkpoint\'s signed time');
  }
  try {
    verifyInclusion(index, treeSize, hasher.hashLeaf(leaf), hashes as Uint8Array[], rootHash, hasher);
  } catch (err) {
    return refuse('inclusion_proof_invalid', `the inclusion proof does not verify: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { ok: true, value: { logIndex: index, logKid, treeSize, integratedTime: checkpoint.timestamp } };
}
