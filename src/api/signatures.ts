// How a release signature is shown: POST /v1/signatures answers with the record and its bundle.
import type { SignatureRecord } from '../core/signature-record.ts';

export function signatureView(r: SignatureRecord) {
  return {
    id: r.id,
    model: r.model,
    version: r.version,
    kid: r.kid,
    rootDigest: r.rootDigest,
    createdAt: r.createdAt,
    logIndex: r.logIndex,
    identity: r.identity,
    bundle: r.bundle,
  };
}
