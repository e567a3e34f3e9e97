// The `verificationMaterial.tlogEntries[]` item of a bundle, in the JSON shape of Sigstore's
// TransparencyLogEntry (uint64 fields as decimal strings, bytes as padded base64, no field the
// protobuf schema lacks):
//   logIndex, logId.keyId, kindVersion, integratedTime,
//   inclusionProof {logIndex, rootHash, treeSize, hashes[], checkpoint.envelope (signed note)},
//   canonicalizedBody (base64 of the leaf data, made by the entry's kind: entries/).
// A Rekor v2 entry (hashedrekord) names its log by the C2SP key ID of the log key (log-id.ts)
// and has integratedTime "0", as Rekor v2 writes them: the log's signed time is in the
// checkpoint's timestamp cosignature, which modelsign's verifier reads and other clients ignore.
// Entries of the first kind keep the first shape (logId = the log key's kid, integratedTime =
// that signed time), so bundles issued before the upgrade stay the same.
// The checkpoint is the first one the log signed that covers the entry, so the bundle is the
// same whenever it is fetched.
import { bytesToHex, equalBytes, fromBase64, hexToBytes, isSha256Hex, toBase64 } from '../bytes.ts';
import type { SignatureVerifier } from '../crypto/algorithm.ts';
import { isObject, parseDecimal } from '../guards.ts';
import type { KeyPurpose, KeyStatus, PublicKey, TrustedKey } from '../keys/key.ts';
import type { Reason } from '../verdict.ts';
import type { EntryFacts, KindVersion } from './entries/entry-kind.ts';
import { entryKindOf } from './entries/registry.ts';
import { RFC6962, type LogHasher } from './hash.ts';
import { logIdOf } from './log-id.ts';
import { verifyCheckpoint, type SignedCheckpoint } from './log-note.ts';
import { parseSignedNote, type SignedNote } from './signed-note.ts';
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
  /** The log key that signed `checkpoint`. */
  logKey: PublicKey;
  checkpoint: SignedCheckpoint;
  proof: readonly Uint8Array[];
  kindVersion: Readonly<KindVersion>;
  leaf: Uint8Array;
}

export function buildTlogEntry(p: TlogEntryParts): TlogEntry {
  const kind = entryKindOf(p.kindVersion);
  if (!kind) throw new TlogError('kind_unknown', `no log entry kind ${p.kindVersion.kind}/${p.kindVersion.version}`);
  const rekorV2 = kind.style === 'rekor-v2';
  return {
    logIndex: String(p.index),
    logId: { keyId: toBase64(rekorV2 ? logIdOf(p.checkpoint.origin, p.logKey) : hexToBytes(p.logKid)) },
    kindVersion: { kind: p.kindVersion.kind, version: p.kindVersion.version },
    integratedTime: rekorV2 ? '0' : String(p.checkpoint.timestamp ?? 0),
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
  leafHash: Uint8Array;
  checkpoint: SignedCheckpoint;
  logKey: LogKey;
}

type Result = { ok: true; value: VerifiedTlogEntry } | { ok: false; reasons: Reason[] };
const refuse = (code: Reason['code'], message: string): Result => ({ ok: false, reasons: [{ code, message }] });

/** Where a verifier finds log keys: by kid (first-format entries), and the trusted log keys to match a C2SP log ID against. */
export interface LogKeyLookup {
  resolveKey(kid: string): LogKey | undefined;
  logKeys?(): Iterable<TrustedKey>;
  /** The checkpoint's signature check (default: the algorithm record's strict verify). */
  verifySignature?: SignatureVerifier;
}

/** The trusted log key an entry's logId names: a C2SP key ID under the checkpoint's origin, or (first format) a kid. */
export function findLogKey(logId: Uint8Array, origin: string, keys: LogKeyLookup): LogKey | undefined {
  for (const k of keys.logKeys?.() ?? []) {
    if (k.purpose === 'log' && k.algorithm === 'Ed25519' && equalBytes(logIdOf(origin, k), logId)) return k;
  }
  const kid = bytesToHex(logId);
  const key = isSha256Hex(kid) ? keys.resolveKey(kid) : undefined;
  return key?.purpose === 'log' ? key : undefined;
}

function parsedNote(note: string): SignedNote | undefined {
  try {
    return parseSignedNote(note);
  } catch {
    return undefined;
  }
}

/**
 * Checks one entry against the facts of the bundle and the trusted log keys: the entry's kind
 * makes the leaf from the facts (never trusting canonicalizedBody, which must merely equal it);
 * the log key is found by logId; then the checkpoint's signature, that the proof is for the
 * checkpoint's tree, and the inclusion proof of the leaf. Returns reasons rather than throwing,
 * like verifyBundle.
 */
export function checkTlogEntry(entry: unknown, facts: EntryFacts, keys: LogKeyLookup, hasher: LogHasher = RFC6962): Result {
  if (!isObject(entry) || !isObject(entry.logId) || !isObject(entry.inclusionProof) || !isObject(entry.inclusionProof.checkpoint)) {
    return refuse('tlog_entry_malformed', 'a tlog entry needs logId, inclusionProof and inclusionProof.checkpoint');
  }
  const kind = entryKindOf(entry.kindVersion);
  if (!kind) return refuse('tlog_entry_malformed', `the tlog entry's kindVersion ${JSON.stringify(entry.kindVersion)?.slice(0, 80)} is not a kind this verifier knows`);
  let leaf: Uint8Array;
  try {
    leaf = kind.leafData(facts, hasher.sha256);
  } catch {
    return refuse('tlog_body_mismatch', `a ${kind.kindVersion.kind} entry cannot be made for this bundle's key`);
  }
  const proof = entry.inclusionProof;
  const index = parseDecimal(entry.logIndex);
  const proofIndex = parseDecimal(proof.logIndex);
  const treeSize = parseDecimal(proof.treeSize);
  const rootHash = typeof proof.rootHash === 'string' ? fromBase64(proof.rootHash) : undefined;
  const hashes = Array.isArray(proof.hashes) && proof.hashes.length <= 64 ? proof.hashes.map((h) => (typeof h === 'string' ? fromBase64(h) : undefined)) : undefined;
  const logId = typeof entry.logId.keyId === 'string' ? fromBase64(entry.logId.keyId) : undefined;
  const envelope = (proof.checkpoint as Record<string, unknown>).envelope;
  if (index === undefined || proofIndex !== index || treeSize === undefined || !rootHash || !hashes || hashes.some((h) => !h) || !logId || logId.length !== 32 || typeof envelope !== 'string') {
    return refuse('tlog_entry_malformed', 'the tlog entry has a malformed index, tree size, root hash, proof hash, log id or checkpoint');
  }
  if (entry.canonicalizedBody !== undefined && entry.canonicalizedBody !== toBase64(leaf)) {
    return refuse('tlog_body_mismatch', 'the entry\'s canonicalizedBody is not the leaf data of this bundle');
  }
  // Parsed once: the origin finds the key, and the same parse is verified.
  const parsed = parsedNote(envelope);
  if (parsed === undefined) return refuse('checkpoint_signature_invalid', 'the checkpoint is not a signed note');
  const origin = parsed.text.split('\n', 1)[0]!;
  const key = findLogKey(logId, origin, keys);
  if (!key) return refuse('log_key_unknown', `the log id ${toBase64(logId)} names no trusted log key (origin ${JSON.stringify(origin.slice(0, 80))})`);
  if (key.status === 'revoked' || key.status === 'pending') return refuse('log_key_unknown', `the log key ${key.kid} is ${key.status}`);
  let checkpoint: SignedCheckpoint;
  try {
    checkpoint = verifyCheckpoint(envelope, key, keys.verifySignature, parsed);
  } catch (err) {
    return refuse('checkpoint_signature_invalid', err instanceof TlogError ? err.message : 'the checkpoint does not verify');
  }
  if (checkpoint.size !== treeSize || !equalBytes(checkpoint.rootHash, rootHash)) {
    return refuse('checkpoint_mismatch', `the proof is for tree size ${treeSize}, the checkpoint is for ${checkpoint.size} with another root`);
  }
  // Rekor v2 entries say "0" (no time); a first-format entry states the checkpoint's signed time.
  if (entry.integratedTime !== undefined && entry.integratedTime !== '0' && entry.integratedTime !== String(checkpoint.timestamp ?? 0)) {
    return refuse('checkpoint_mismatch', 'integratedTime differs from the checkpoint\'s signed time');
  }
  const leafHash = hasher.hashLeaf(leaf);
  try {
    verifyInclusion(index, treeSize, leafHash, hashes as Uint8Array[], rootHash, hasher);
  } catch (err) {
    return refuse('inclusion_proof_invalid', `the inclusion proof does not verify: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { ok: true, value: { logIndex: index, logKid: key.kid, treeSize, integratedTime: checkpoint.timestamp, leafHash, checkpoint, logKey: key } };
}
