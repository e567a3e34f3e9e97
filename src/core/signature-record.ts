// A release signature as the service keeps and serves it.
import type { Bundle } from './bundle.ts';
import type { ManifestFile } from './manifest.ts';

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
  /** The bundle, with its tlog entry once a checkpoint covers the signature. */
  bundle: Bundle;
}

export type SignatureSummary = Omit<SignatureRecord, 'files' | 'ignorePaths' | 'bundle'>;
