// Encodings of an Ed25519 public key: SubjectPublicKeyInfo (DER and PEM), JWK (RFC 8037), and
// the key id. The kid is the lowercase hex SHA-256 of the SPKI PEM text, newline-terminated,
// which is the rule the OpenSSF model_signing tool uses for `publicKey.hint`.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, equalBytes, fromBase64, fromBase64Url, toBase64, toBase64Url, utf8 } from './bytes.ts';
import { ED25519_PUBLIC_KEY_LENGTH } from './ed25519.ts';

// SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING (33 bytes) }
const SPKI_PREFIX = new Uint8Array([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

export interface Ed25519Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

export function spkiDer(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) throw new TypeError('Ed25519 public key must be 32 bytes');
  return concatBytes(SPKI_PREFIX, publicKey);
}

export function spkiPem(publicKey: Uint8Array): string {
  const b64 = toBase64(spkiDer(publicKey));
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

export function keyIdOf(publicKey: Uint8Array): string {
  return bytesToHex(sha256(utf8(spkiPem(publicKey))));
}

export function toJwk(publicKey: Uint8Array): Ed25519Jwk {
  return { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) };
}

/** The raw public key from an SPKI PEM, or undefined when it is not an Ed25519 public key. */
export function parseSpkiPem(pem: string): Uint8Array | undefined {
  const match = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!match) return undefined;
  const der = fromBase64(match[1]!.replace(/\s+/g, ''));
  if (!der || der.length !== SPKI_PREFIX.length + ED25519_PUBLIC_KEY_LENGTH) return undefined;
  if (!equalBytes(der.subarray(0, SPKI_PREFIX.length), SPKI_PREFIX)) return undefined;
  return der.slice(SPKI_PREFIX.length);
}

/** The raw public key from an Ed25519 JWK, or undefined when it is anything else. */
export function parseJwk(jwk: unknown): Uint8Array | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  const { kty, crv, x, d } = jwk as Record<string, unknown>;
  // A JWK carrying `d` is a private key: refuse it rather than silently use its public half.
  if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string' || d !== undefined) return undefined;
  const raw = fromBase64Url(x);
  return raw && raw.length === ED25519_PUBLIC_KEY_LENGTH ? raw : undefined;
}
