// Public keys in every encoding clients meet: SubjectPublicKeyInfo (DER and PEM), JWK, and the
// key id. The kid is the lowercase hex SHA-256 of the SPKI PEM text, newline-terminated, which
// is the rule the OpenSSF model_signing tool uses for `publicKey.hint`. Each function dispatches
// on the key's algorithm through the registry.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, fromBase64, toBase64, utf8 } from '../bytes.ts';
import { isObject } from '../guards.ts';
import type { PublicKey } from '../keys/key.ts';
import type { PublicJwk } from './algorithm.ts';
import { ALGORITHMS, algorithmOf } from './registry.ts';

export function spkiDer(key: PublicKey): Uint8Array {
  return algorithmOf(key.algorithm).spki(key.publicKey);
}

export function spkiPem(key: PublicKey): string {
  const lines = toBase64(spkiDer(key)).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

// Every verification compares a trusted key's kid with the bundle's hint; the kid of the same
// key object is computed once.
const kids = new WeakMap<Uint8Array, { algorithm: string; kid: string }>();

export function keyIdOf(key: PublicKey): string {
  const known = kids.get(key.publicKey);
  if (known?.algorithm === key.algorithm) return known.kid;
  const kid = bytesToHex(sha256(utf8(spkiPem(key))));
  kids.set(key.publicKey, { algorithm: key.algorithm, kid });
  return kid;
}

/** The public JWK members of a key (kty, crv, x...). */
export function toJwk(key: PublicKey): PublicJwk {
  return algorithmOf(key.algorithm).jwk(key.publicKey);
}

/** The key inside SPKI DER, or undefined when it is no key of a known algorithm. */
export function parseSpkiDer(der: Uint8Array): PublicKey | undefined {
  for (const alg of Object.values(ALGORITHMS)) {
    const publicKey = alg.fromSpki(der);
    if (publicKey) return { algorithm: alg.id, publicKey };
  }
  return undefined;
}

/** The key in an SPKI PEM, or undefined when it is no public key of a known algorithm. */
export function parseSpkiPem(pem: string): PublicKey | undefined {
  const match = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  const der = match ? fromBase64(match[1]!.replace(/\s+/g, '')) : undefined;
  return der ? parseSpkiDer(der) : undefined;
}

/** The key of a public JWK of a known algorithm, or undefined for anything else. */
export function parseJwk(jwk: unknown): PublicKey | undefined {
  // A JWK carrying `d` is a private key: refuse it rather than silently use its public half.
  if (!isObject(jwk) || jwk.d !== undefined) return undefined;
  for (const alg of Object.values(ALGORITHMS)) {
    const publicKey = alg.fromJwk(jwk);
    if (publicKey) return { algorithm: alg.id, publicKey };
  }
  return undefined;
}

/** Whether `signature` is well formed and verifies over `message` with `key` (strictly). */
export function verifySignature(key: PublicKey, signature: Uint8Array, message: Uint8Array): boolean {
  return algorithmOf(key.algorithm).verify(signature, message, key.publicKey);
}
