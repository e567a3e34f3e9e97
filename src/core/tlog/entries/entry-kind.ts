// A log entry kind: how the facts of one release signature become the bytes a log leaf commits
// to (Sigstore's `canonicalizedBody`). Kinds are named by Sigstore's kindVersion; the registry
// (registry.ts) finds one by it, so verifiers dispatch on what an entry says it is.
import { bytesToHex } from '../../bytes.ts';
import { portableSha256, type Sha256 } from '../hash.ts';

export interface KindVersion {
  kind: string;
  version: string;
}

/** What is known of a release signature when its leaf is made or checked. */
export interface EntryFacts {
  /** The in-toto subject name, `namespace/name@version`. */
  subject: string;
  /** The subject's sha256 digest (the root digest), lowercase hex. */
  rootDigest: string;
  /** SHA-256 of the DSSE payload bytes, lowercase hex (a log reader gets it without loading payloads). */
  payloadSha256: string;
  /** The bundle's `publicKey.hint`. */
  kid: string;
  /** The DSSE signature. */
  signature: Uint8Array;
}

export interface EntryKind {
  readonly kindVersion: Readonly<KindVersion>;
  /** The leaf data (canonical body) of a release signature. */
  leafData(facts: EntryFacts): Uint8Array;
}

/** The facts of a signature whose payload is at hand. */
export function entryFacts(f: Omit<EntryFacts, 'payloadSha256'> & { payload: Uint8Array }, sha256: Sha256 = portableSha256): EntryFacts {
  return { subject: f.subject, rootDigest: f.rootDigest, payloadSha256: bytesToHex(sha256(f.payload)), kid: f.kid, signature: f.signature };
}

export const kindVersionKey = (kv: KindVersion): string => `${kv.kind}/${kv.version}`;
