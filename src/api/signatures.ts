// How a release signature is shown: GET /v1/signatures/{id} and POST /v1/signatures (and each
// result of the batch) answer the same shape, the record with its bundle.
import type { SignatureRecord, SignatureSummary } from '../core/signature-record.ts';
import type { Wire } from './wire.ts';

export function signatureView(r: SignatureRecord): Wire['Signature'] {
  return {
    id: r.id,
    model: r.model,
    version: r.version,
    kid: r.kid,
    rootDigest: r.rootDigest,
    publisher: r.publisher,
    createdAt: r.createdAt.toISOString(),
    logIndex: r.logIndex,
    files: r.files,
    ignorePaths: r.ignorePaths,
    identity: r.identity,
    // Built by core/bundle.ts with entries from core/tlog/tlog-entry.ts, whose fields core types
    // loosely (a bundle is also what verifiers parse); the contract test checks the shape served.
    bundle: r.bundle as Wire['Bundle'],
  };
}

export function signatureSummaryView(s: SignatureSummary): Wire['SignatureSummary'] {
  return { id: s.id, model: s.model, version: s.version, kid: s.kid, rootDigest: s.rootDigest, publisher: s.publisher, createdAt: s.createdAt.toISOString(), logIndex: s.logIndex };
}
