// The JSON shapes the public pages read: the service's records, with dates as ISO strings.
import type { SignatureRecord, SignatureSummary } from '../core/signature-record.ts';

type Json<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] };

export type SignatureSummaryView = Json<SignatureSummary>;
export type SignatureView = Json<SignatureRecord>;
