// The Wycheproof ECDSA P-256 / SHA-256 verify vectors (test/vectors/ecdsa-p256): DER signatures,
// and the same cases as IEEE P1363 r‖s, which a DER verifier must refuse as malformed.
import { readFileSync } from 'node:fs';
import { VECTORS } from './vectors.ts';

export interface EcdsaVector {
  id: number;
  comment: string;
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  /** 'valid' and 'invalid' only: the set has no 'acceptable' case. */
  valid: boolean;
}

const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

export function p256Vectors(format: 'der' | 'p1363' = 'der'): EcdsaVector[] {
  const file = format === 'der' ? 'wycheproof-ecdsa-secp256r1-sha256.json' : 'wycheproof-ecdsa-secp256r1-sha256-p1363.json';
  const doc = JSON.parse(readFileSync(`${VECTORS}ecdsa-p256/${file}`, 'utf8'));
  const out: EcdsaVector[] = [];
  for (const g of doc.testGroups) {
    for (const t of g.tests) {
      if (t.result === 'acceptable') throw new Error(`vector ${t.tcId} is 'acceptable': decide what it should give`);
      out.push({ id: t.tcId, comment: t.comment, publicKey: hex(g.publicKey.uncompressed), message: hex(t.msg), signature: hex(t.sig), valid: t.result === 'valid' });
    }
  }
  return out;
}
