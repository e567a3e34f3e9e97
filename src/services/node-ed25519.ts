// Ed25519 signing through node:crypto (OpenSSL) for the service's hot path: about 16x faster
// than the pure-JS reference in src/core/ed25519.ts. test/services/node-ed25519.test.ts proves
// both give byte-identical signatures. Private keys live only inside KeyObjects, never as
// strings. Verification stays with the reference (see src/core/verify-bundle.ts).
import { createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';

// PrivateKeyInfo { version 0, AlgorithmIdentifier { 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function generateSeed(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new TypeError('Ed25519 seed must be 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function publicKeyOf(privateKey: KeyObject): Uint8Array {
  // The SPKI DER of an Ed25519 key ends with the 32 raw public key bytes.
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

export function nodeSign(message: Uint8Array, privateKey: KeyObject): Uint8Array {
  return new Uint8Array(sign(null, message, privateKey));
}
