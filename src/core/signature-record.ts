// A release signature as the service keeps and serves it.
import type { Bundle } from './bundle.ts';
import type { ManifestFile } from './manifest.ts';
import type { PublicIdentity } from './oidc/identity.ts';

export interface SignatureRecord {
  id: string;
  model: string;
  version: string;
  kid: string;
  rootDigest: string;
  /** The publisher's name. */
  publisher: string;
  files: ManifestFile[];
  ignorePaths: string[];
  createdAt: Date;
  logIndex: number | null;
  /** How the publisher signed (token, or trusted publishing and from which kind of CI); null for signatures made before 0.2.0. */
  identity: PublicIdentity | null;
  /** The bundle, with its tlog entry once a checkpoint covers the signature. */
  bundle: Bundle;
}

export type SignatureSummary = Omit<SignatureRecord, 'files' | 'ignorePaths' | 'bundle' | 'identity'>;
