// A log entry kind: how the facts of one release signature become the bytes a log leaf commits
// to (Sigstore's `canonicalizedBody`). Kinds are named by Sigstore's kindVersion; the registry
// (registry.ts) finds one by it, so verifiers dispatch on what an entry says it is.
import { IN_TOTO_PAYLOAD_TYPE } from '../../dsse.ts';
import type { PublicKey } from '../../keys/key.ts';
import { subjectName } from '../../release-name.ts';
import type { Sha256 } from '../hash.ts';

export interface KindVersion {
  kind: string;
  version: string;
}

/** What is known of a release signature when its leaf is made or checked: the bundle and its key. */
export interface EntryFacts {
  /** The in-toto subject name, `namespace/name@version`. */
  subject: string;
  /** The subject's sha256 digest (the root digest), lowercase hex. */
  rootDigest: string;
  /** The DSSE payload type and payload bytes. */
  payloadType: string;
  payload: Uint8Array;
  /** The bundle's `publicKey.hint`. */
  kid: string;
  /** The release key the hint names (a Rekor v2 body carries its SPKI). */
  key: PublicKey;
  /** The DSSE signature. */
  signature: Uint8Array;
}

/** What a log leaf is made of for a stored signature, given its key's public half (pure: the writer and the reader both derive leaves with it). */
export function rowEntryFacts(row: { model: string; version: string; rootDigest: string; kid: string; payload: Uint8Array; signature: Uint8Array }, key: PublicKey): EntryFacts {
  return { subject: subjectName(row.model, row.version), rootDigest: row.rootDigest, payloadType: IN_TOTO_PAYLOAD_TYPE, payload: row.payload, kid: row.kid, key, signature: row.signature };
}

export interface EntryKind {
  readonly kindVersion: Readonly<KindVersion>;
  /**
   * How a bundle's tlog entry of this kind names its log and time: `rekor-v2` entries carry the
   * C2SP key ID of the log key as logId and integratedTime "0" (what Sigstore clients expect);
   * `modelsign-v1` entries, the log key's kid and the checkpoint's signed time (the first format,
   * kept so bundles issued before the upgrade stay byte-identical whenever they are fetched).
   */
  readonly style: 'rekor-v2' | 'modelsign-v1';
  /** The leaf data (canonical body) of a release signature. */
  leafData(facts: EntryFacts, sha256: Sha256): Uint8Array;
}

export const kindVersionKey = (kv: KindVersion): string => `${kv.kind}/${kv.version}`;
