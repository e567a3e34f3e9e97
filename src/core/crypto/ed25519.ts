// Ed25519 (RFC 8032) through @noble/curves: the reference implementation of modelsign. The
// service signs with node:crypto on its hot path (src/services/key-backends/node-keys.ts);
// test/services/node-signing.test.ts proves the two give byte-identical signatures.
// Verification is strict RFC 8032 (zip215: false): the signature must be canonical, so a bundle
// has exactly one valid signature encoding. OpenSSL's verify disagrees with it on edge cases
// (small-order and non-canonical keys, mixed-order points: OpenSSL checks the cofactorless
// equation), so the service's faster OpenSSL path (services/node-verifier.ts) trusts OpenSSL's
// `true` only after isStrictKey and isStrictSignature, and asks this record on every `false`.
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { concatBytes, equalBytes, fromBase64Url, toBase64Url } from '../bytes.ts';
import type { SignatureAlgorithm } from './algorithm.ts';

const PUBLIC_KEY_LENGTH = 32;
const ORDER = ed25519.Point.Fn.ORDER;
const SIGNATURE_LENGTH = 64;
// SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING (33 bytes) }
const SPKI_PREFIX = new Uint8Array([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

export const ED25519: SignatureAlgorithm = {
  id: 'Ed25519',
  name: 'ed25519',
  jwsAlg: 'EdDSA',
  keyDetails: 'PKIX_ED25519',
  note: { signature: 0x01, cosignature: 0x04 },
  publicKeyLength: PUBLIC_KEY_LENGTH,
  signatureLength: { min: SIGNATURE_LENGTH, max: SIGNATURE_LENGTH },
  spki(publicKey) {
    if (publicKey.length !== PUBLIC_KEY_LENGTH) throw new TypeError('an Ed25519 public key is 32 bytes');
    return concatBytes(SPKI_PREFIX, publicKey);
  },
  fromSpki(der) {
    if (der.length !== SPKI_PREFIX.length + PUBLIC_KEY_LENGTH || !equalBytes(der.subarray(0, SPKI_PREFIX.length), SPKI_PREFIX)) return undefined;
    return der.slice(SPKI_PREFIX.length);
  },
  jwk(publicKey) {
    return { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) };
  },
  fromJwk(jwk) {
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') return undefined;
    const raw = fromBase64Url(jwk.x);
    return raw && raw.length === PUBLIC_KEY_LENGTH ? raw : undefined;
  },
  signatureProblem(signature) {
    return signature.length === SIGNATURE_LENGTH ? undefined : `an Ed25519 signature is ${SIGNATURE_LENGTH} bytes, got ${signature.length}`;
  },
  isStrictKey(publicKey) {
    if (publicKey.length !== PUBLIC_KEY_LENGTH) return false;
    try {
      // fromBytes(_, false): y < p, and no x = 0 with the sign bit set; then no small order.
      return !ed25519.Point.fromBytes(publicKey, false).isSmallOrder();
    } catch {
      return false;
    }
  },
  isStrictSignature(signature) {
    // S < L. R needs no check: OpenSSL accepts only an R equal to the canonical encoding of the
    // point it computes, and a canonical encoding decodes strictly.
    return signature.length === SIGNATURE_LENGTH && bytesToNumberLE(signature.subarray(32)) < ORDER;
  },
  verify(signature, message, publicKey) {
    if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};

/** The reference public key of a 32-byte seed (tests and the parity check). */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

/** The reference signature (tests and the parity check; the service signs with node:crypto). */
export function ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return ed25519.sign(message, seed);
}
