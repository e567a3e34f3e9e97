// A release signature as the service keeps and serves it.
import { buildBundle, type Bundle } from './bundle.ts';
import type { ManifestFile } from './manifest.ts';
import { publicIdentity, type PublicIdentity, type SignerIdentity } from './oidc/identity.ts';

export interface SignatureRecord {
  id: string;
  model: string;
  version: string;
  kid: string;
  rootDigest: string;
  /** The publisher's name. */
  publisher: string;
  /** As signed: every file has its size (the sign request requires it). */
  files: Required<ManifestFile>[];
  ignorePaths: string[];
  createdAt: Date;
  logIndex: number | null;
  /** How the publisher signed (token, or trusted publishing and from which kind of CI); null for signatures made before 0.2.0. */
  identity: PublicIdentity | null;
  /** The bundle, with its tlog entry once a checkpoint covers the signature. */
  bundle: Bundle;
}

export type SignatureSummary = Omit<SignatureRecord, 'files' | 'ignorePaths' | 'bundle' | 'identity'>;

/** What a signature is made of, as stored: the one source of a record (signing and reading alike). */
export interface SignatureFacts extends Omit<SignatureRecord, 'identity' | 'bundle'> {
  identity: SignerIdentity | null;
  payload: Uint8Array;
  signature: Uint8Array;
}

/** The record of stored facts: the identity as the public sees it, the bundle (no entry yet). */
export function signatureRecordOf(f: SignatureFacts): SignatureRecord {
  return {
    id: f.id,
    model: f.model,
    version: f.version,
    kid: f.kid,
    rootDigest: f.rootDigest,
    publisher: f.publisher,
    files: f.files,
    ignorePaths: f.ignorePaths,
    createdAt: f.createdAt,
    logIndex: f.logIndex,
    identity: publicIdentity(f.identity),
    bundle: buildBundle({ payload: f.payload, signature: f.signature, kid: f.kid }),
  };
}
