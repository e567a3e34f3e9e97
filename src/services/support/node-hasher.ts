// SHA-256 and the RFC 6962 log hasher over node:crypto: several times faster than the portable
// hasher (core/tlog/hash.ts) on the service's signing and proof paths, and equal to it (the
// storage tests and the RFC 6962 vectors hold both to the same trees).
import { createHash } from 'node:crypto';
import { rfc6962Hasher, type Sha256 } from '../../core/tlog/hash.ts';

export const nodeSha256: Sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

export const nodeLogHasher = rfc6962Hasher(nodeSha256);
