// Why a bundle did not verify. Codes are stable: clients, the CLI and tests branch on them.
import type { KeyStatus } from './keys/key.ts';

export const REASON_CODES = {
  bundle_malformed: 'The bundle is not a Sigstore bundle with one DSSE envelope and a key hint.',
  bundle_media_type: 'The bundle media type is not application/vnd.dev.sigstore.bundle.v0.3+json.',
  payload_type: 'The DSSE payload type is not application/vnd.in-toto+json.',
  signature_count: 'The envelope must carry exactly one signature.',
  signature_malformed:
    'The signature is not well formed for the key\'s algorithm: not canonical base64, not 64 bytes for Ed25519, or not a DER ECDSA-Sig-Value with 1 <= r, s < n for ECDSA P-256 (an IEEE P1363 r||s pair, trailing bytes, or the other algorithm\'s signature).',
  key_unknown: 'The key named by publicKey.hint is not a trusted key.',
  key_mismatch: 'The trusted key does not hash to the kid the bundle names.',
  key_wrong_purpose: 'The key is not a release-signing key.',
  key_not_active: 'The key was never activated, so nothing it signed is valid.',
  key_revoked: 'The key is revoked and the signature is not proven to predate the compromise.',
  signature_invalid: 'The signature does not verify over the DSSE pre-authentication encoding with the named key.',
  payload_malformed: 'The payload is not UTF-8 JSON.',
  statement_unsupported: 'The payload is not an in-toto v1 statement with the OMS v1.0 predicate (files, sha256).',
  subject_malformed: 'The statement must have one subject named namespace/name@version with a sha256 digest.',
  resource_malformed: 'A resource is not {algorithm: sha256, name, digest} with a 64-hex digest, or appears twice.',
  resource_unsafe: 'A resource name is not a safe relative path; no file was opened.',
  invisible_character: 'A resource name holds an invisible or bidirectional format character (named as U+XXXX), so it displays as another name; no file was opened.',
  root_digest_mismatch: 'The subject digest does not equal SHA-256 over the resource digests.',
  file_changed: 'A file\'s SHA-256 differs from the signed digest.',
  file_missing: 'A signed file is not present.',
  file_extra: 'A file is present that the release does not list (and no ignore path covers).',
  tlog_entry_missing: 'The bundle carries no transparency-log entry, so nothing proves the signature was logged (and when).',
  tlog_entry_malformed: 'The transparency-log entry is not the expected JSON (index, log id, inclusion proof, checkpoint), or there is more than one.',
  tlog_body_mismatch: 'The log entry\'s body is not the one this bundle and its key derive (for a Rekor v2 entry: the digest of the DSSE PAE, the exact signature bytes, the key\'s SPKI).',
  log_key_unknown: 'The log the entry names (its log ID: the C2SP key ID under the checkpoint\'s origin, or a first-format entry\'s kid) is not a trusted, active or retired log key.',
  checkpoint_signature_invalid: 'The checkpoint is not a well-formed note signed by the log key (signature and timestamp cosignature).',
  checkpoint_mismatch: 'The checkpoint\'s tree size or root hash, or its signed time, differs from what the entry states.',
  inclusion_proof_invalid: 'The inclusion proof does not lead from this bundle\'s leaf to the checkpoint\'s root hash.',
  witness_quorum_not_met:
    'A witness policy was given, and neither the bundle\'s checkpoint nor the checkpoint of a tlog-proof given with it carries valid cosignatures from enough of its witnesses to meet the quorum (give the bundle\'s .tlog-proof file).',
  witness_signature_invalid: 'A cosignature by a witness the policy names is malformed, does not verify, or is dated more than 10 minutes ahead of the verifier\'s clock.',
  witness_proof_invalid:
    'The tlog-proof is malformed or not for this bundle\'s entry: another index, log origin or entry, a tree smaller than the bundle\'s (or of its size with another root), a checkpoint no trusted log key signed, or a bad inclusion proof.',
  witness_policy_invalid: 'The witness policy cannot be used with this log: a witness key is also a log key (the log\'s own timestamp line would count as a witness), or its log lines do not list the key that signed.',
  signature_unrecorded: 'The service holds no record of this signature for this release (online verification only): a signature made off the books, e.g. with a stolen key.',
} as const;

export type ReasonCode = keyof typeof REASON_CODES;

export interface Reason {
  code: ReasonCode;
  message: string;
  path?: string;
}

export interface Verdict {
  valid: boolean;
  reasons: Reason[];
  kid: string | null;
  keyStatus: KeyStatus | null;
  model: string | null;
  version: string | null;
  rootDigest: string | null;
  /** The verified transparency-log index, when the bundle carries a valid entry. */
  logIndex: number | null;
  /** The log's signed time (POSIX seconds) of the checkpoint that first included the entry. */
  integratedTime: number | null;
}
