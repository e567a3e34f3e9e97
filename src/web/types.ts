// The JSON shapes the public pages read: the service's records, with dates as ISO strings.
import type { SignatureRecord, SignatureSummary } from '../core/signature-record.ts';
import type { logEntryView } from '../api/log-entries.ts';

type Json<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] };

export type SignatureSummaryView = Json<SignatureSummary>;
export type SignatureView = Json<SignatureRecord>;

/** A key as GET /v1/keys lists it (api/keys.ts jwkOf): JWK members, kid, purpose, status, lifecycle times. */
export interface KeyJwkView {
  kid: string;
  kty: string;
  crv?: string;
  alg?: string;
  purpose: string;
  status: string;
  createdAt?: string;
  activatedAt?: string | null;
  retiredAt?: string | null;
  revokedAt?: string | null;
  compromisedAt?: string | null;
}

/** A page of GET /v1/log/entries (api/log-entries.ts). */
export interface LogEntriesView {
  start: number;
  end: number;
  treeSize: number;
  entries: ReturnType<typeof logEntryView>[];
}
