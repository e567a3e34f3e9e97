// The JSON shapes the public pages read (dates arrive as ISO strings).
import type { Bundle } from '../core/bundle.ts';

export interface SignatureSummaryView {
  id: string;
  model: string;
  version: string;
  kid: string;
  rootDigest: string;
  publisher: string;
  createdAt: string;
  logIndex: number | null;
}

export interface SignatureView extends SignatureSummaryView {
  files?: { path: string; sha256: string; size?: number }[];
  ignorePaths?: string[];
  bundle: Bundle;
}
