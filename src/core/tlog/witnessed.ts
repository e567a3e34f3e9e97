// Whether a bundle's log entry was seen by the witnesses a user's policy requires (C2SP
// tlog-witness, tlog-policy). Either checkpoint may meet the quorum: the bundle's own (the first
// covering the entry, which dates it, and which witnesses rarely cosign: they cosign only the
// newest checkpoints, paced) or that of a tlog-proof given beside the bundle, which must prove
// the same entry, at the same index, in a tree of the same origin at least as large, signed by a
// trusted log key. The bundle's checkpoint still gives the logged time either way.
import { equalBytes } from '../bytes.ts';
import type { SignatureVerifier } from '../crypto/algorithm.ts';
import type { TrustedKey } from '../keys/key.ts';
import type { Reason } from '../verdict.ts';
import { parseCheckpoint } from './checkpoint.ts';
import { RFC6962, type LogHasher } from './hash.ts';
import { verifyCheckpoint, type SignedCheckpoint } from './log-note.ts';
import { parseSignedNote } from './signed-note.ts';
import { TlogError } from './tlog-error.ts';
import { parseTlogProof } from './tlog-proof.ts';
import { verifyInclusion } from './verify-proof.ts';
import { NOTE_TYPE } from './vkey.ts';
import { evaluateQuorum, type WitnessPolicy, type Witnessing } from './witness-policy.ts';

export interface WitnessRequirement {
  policy: WitnessPolicy;
  /** A C2SP tlog-proof for the bundle's entry, as text. */
  proof?: string;
  /** The verifier's clock, in milliseconds since the epoch (cosignatures may not be from its future). */
  now: number;
}

export interface LoggedEntry {
  index: number;
  leafHash: Uint8Array;
  checkpoint: SignedCheckpoint;
  logKey: TrustedKey;
}

const reason = (code: Reason['code'], message: string): Reason[] => [{ code, message }];

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The policy's own consistency with the log keys a verifier trusts, and its log lines with the key that signed. */
function policyProblem(policy: WitnessPolicy, logKeys: readonly TrustedKey[], signer: TrustedKey, origin: string): Reason[] {
  for (const w of policy.witnesses) {
    if (w.key.type === NOTE_TYPE.mldsa44) continue;
    const log = logKeys.find((k) => k.algorithm === 'Ed25519' && equalBytes(k.publicKey, w.key.publicKey)) ?? policy.logs.find((l) => equalBytes(l.vkey.publicKey, w.key.publicKey));
    if (log) return reason('witness_policy_invalid', `witness ${w.name}'s key is a log key: the log's own timestamp line would count as a witness`);
  }
  if (policy.logs.length > 0 && !policy.logs.some((l) => l.vkey.name === origin && equalBytes(l.vkey.publicKey, signer.publicKey))) {
    return reason('witness_policy_invalid', `the witness policy's log lines do not list log ${origin} with the key ${signer.kid} that signed the checkpoint`);
  }
  return [];
}

function quorumOf(requirement: WitnessRequirement, note: string): Witnessing {
  const parsed = parseSignedNote(note);
  return evaluateQuorum(requirement.policy, parsed, parseCheckpoint(parsed.text), Math.floor(requirement.now / 1000));
}

export function checkWitnessed(requirement: WitnessRequirement, entry: LoggedEntry, trustedLogKeys: Iterable<TrustedKey>, verify?: SignatureVerifier, hasher: LogHasher = RFC6962): Reason[] {
  const logKeys = [...trustedLogKeys].filter((k) => k.purpose === 'log');
  const bundleCheckpoint = entry.checkpoint;
  const problem = policyProblem(requirement.policy, logKeys, entry.logKey, bundleCheckpoint.origin);
  if (problem.length > 0) return problem;

  let own: Witnessing;
  try {
    own = quorumOf(requirement, bundleCheckpoint.note);
  } catch (err) {
    return reason('witness_signature_invalid', `the bundle's checkpoint: ${describe(err)}`);
  }
  if (requirement.proof === undefined) {
    if (own.met) return [];
    return reason('witness_quorum_not_met', `the bundle's checkpoint (tree size ${bundleCheckpoint.size}) does not meet the witness policy (quorum ${requirement.policy.quorum}); give its .tlog-proof file (model.sig.tlog-proof beside model.sig, FILE.sig.tlog-proof beside FILE.sig, or --proof; modelsign proof fetch BUNDLE gets it from a witnessed service)`);
  }

  let proven: SignedCheckpoint;
  try {
    proven = verifyProof(requirement.proof, entry, logKeys, verify, hasher);
  } catch (err) {
    return reason('witness_proof_invalid', `the tlog-proof: ${describe(err)}`);
  }
  let fromProof: Witnessing;
  try {
    fromProof = quorumOf(requirement, proven.note);
  } catch (err) {
    return reason('witness_signature_invalid', `the tlog-proof's checkpoint: ${describe(err)}`);
  }
  if (own.met || fromProof.met) return [];
  return reason('witness_quorum_not_met', `neither the bundle's checkpoint (tree size ${bundleCheckpoint.size}) nor the tlog-proof's (tree size ${proven.size}) meets the witness policy (quorum ${requirement.policy.quorum})`);
}

/** The proof's checkpoint, once it is shown to hold this entry and to be signed by a trusted log key. */
function verifyProof(text: string, entry: LoggedEntry, logKeys: readonly TrustedKey[], verify: SignatureVerifier | undefined, hasher: LogHasher): SignedCheckpoint {
  const proof = parseTlogProof(text);
  if (proof.index !== entry.index) throw new TlogError('proof_invalid', `it is for index ${proof.index}, the bundle's entry is at ${entry.index}`);
  const origin = parseCheckpoint(parseSignedNote(proof.note).text).origin;
  if (origin !== entry.checkpoint.origin) throw new TlogError('proof_invalid', `its checkpoint is of log ${JSON.stringify(origin.slice(0, 80))}, the bundle's of ${JSON.stringify(entry.checkpoint.origin)}`);
  let checkpoint: SignedCheckpoint | undefined;
  for (const key of logKeys) {
    if (key.algorithm !== 'Ed25519' || (key.status !== 'active' && key.status !== 'retired')) continue;
    try {
      checkpoint = verifyCheckpoint(proof.note, key, verify);
      break;
    } catch (err) {
      if (!(err instanceof TlogError) || err.code !== 'note_unverified') throw err;
    }
  }
  if (!checkpoint) throw new TlogError('proof_invalid', 'its checkpoint is not signed by a trusted log key');
  if (checkpoint.size < entry.checkpoint.size) throw new TlogError('proof_invalid', `its tree (size ${checkpoint.size}) is smaller than the bundle's (size ${entry.checkpoint.size})`);
  if (checkpoint.size === entry.checkpoint.size && !equalBytes(checkpoint.rootHash, entry.checkpoint.rootHash)) {
    throw new TlogError('proof_invalid', `its checkpoint has the bundle's tree size ${checkpoint.size} with another root: the log showed two trees`);
  }
  try {
    verifyInclusion(entry.index, checkpoint.size, entry.leafHash, proof.proof, checkpoint.rootHash, hasher);
  } catch (err) {
    throw new TlogError('proof_invalid', `its inclusion proof does not lead from this bundle's entry to the checkpoint's root (${describe(err)})`);
  }
  return checkpoint;
}
