// ECDSA over P-256 with SHA-256 (FIPS 186-5), through @noble/curves: what the OpenSSF model_signing
// tool, sigstore-go and cosign accept for a key-signed bundle (research: sigstore-interop.md).
// Signatures are ASN.1 DER `ECDSA-Sig-Value`, never IEEE P1363 r‖s: that is what those tools
// write and read. The service always signs low-S (node-keys.ts normalises), but verification
// accepts high-S too: Wycheproof marks such signatures valid, and OpenSSL and pyca/cryptography
// accept them, so refusing them would make modelsign disagree with every other verifier about
// an upstream bundle. Malleability does no harm here: the log entry binds the exact signature
// bytes, and a release is identified by its statement, never by its signature.
// Public keys are the 65-byte uncompressed SEC1 point; a point off the curve is no key.
import { p256 } from '@noble/curves/nist.js';
import { bytesToHex, concatBytes, equalBytes, fromBase64Url, hexToBytes, toBase64Url } from '../bytes.ts';
import type { SignatureAlgorithm } from './algorithm.ts';

const PUBLIC_KEY_LENGTH = 65;
const COORDINATE = 32;
// SEQUENCE { SEQUENCE { OID ecPublicKey, OID prime256v1 } BIT STRING (66 bytes) }
const SPKI_PREFIX = new Uint8Array([
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
]);
// SEQUENCE, two INTEGERs of at most 33 bytes: 8 to 72 bytes in all.
const DER_MIN = 8;
const DER_MAX = 72;

function isPoint(publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || publicKey[0] !== 0x04) return false;
  try {
    p256.Point.fromBytes(publicKey).assertValidity();
    return true;
  } catch {
    return false;
  }
}

/** Why `signature` is not a DER ECDSA-Sig-Value with 1 ≤ r, s < n, or undefined when it is one. */
export function derSignatureProblem(signature: Uint8Array): string | undefined {
  if (signature.length < DER_MIN || signature.length > DER_MAX) return `a DER ECDSA P-256 signature is ${DER_MIN} to ${DER_MAX} bytes, got ${signature.length}`;
  try {
    p256.Signature.fromBytes(signature, 'der');
    return undefined;
  } catch (err) {
    // noble names the flaw: trailing bytes, a non-minimal length, a zero or out-of-range scalar.
    return `not a DER ECDSA P-256 signature (${err instanceof Error ? err.message : 'unreadable'})`;
  }
}

const N = p256.Point.CURVE().n;
const N_BYTES = hexToBytes(N.toString(16));
const HALF_N_BYTES = hexToBytes((N >> 1n).toString(16));

/** a <=> b for big-endian unsigned integers without leading zero bytes. */
function compareScalars(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * The r and s of a DER ECDSA-Sig-Value as OpenSSL writes one for P-256 (short lengths, minimal
 * positive INTEGERs, 1 <= r, s < n), without their sign bytes; undefined for anything else.
 */
function derScalars(signature: Uint8Array): [Uint8Array, Uint8Array] | undefined {
  if (signature.length < DER_MIN || signature.length > DER_MAX || signature[0] !== 0x30 || signature[1] !== signature.length - 2) return undefined;
  const scalars: Uint8Array[] = [];
  let at = 2;
  for (let k = 0; k < 2; k++) {
    const length = signature[at + 1] ?? 0;
    if (signature[at] !== 0x02 || length < 1 || length > COORDINATE + 1 || at + 2 + length > signature.length) return undefined;
    let body = signature.subarray(at + 2, at + 2 + length);
    // Negative, or a leading zero byte that is not needed: not minimal DER.
    if (body[0]! & 0x80 || (body[0] === 0 && (length === 1 || !(body[1]! & 0x80)))) return undefined;
    if (body[0] === 0) body = body.subarray(1);
    if (compareScalars(body, N_BYTES) >= 0) return undefined;
    scalars.push(body);
    at += 2 + length;
  }
  return at === signature.length ? [scalars[0]!, scalars[1]!] : undefined;
}

/** A scalar (big-endian, no leading zero) as a minimal DER INTEGER. */
function derInteger(scalar: Uint8Array): Uint8Array {
  const sign = scalar[0]! & 0x80 ? 1 : 0;
  const out = new Uint8Array(2 + sign + scalar.length);
  out[0] = 0x02;
  out[1] = sign + scalar.length;
  out.set(scalar, 2 + sign);
  return out;
}

/**
 * The low-S form of a DER signature (s replaced by n - s when s > n/2), as the service signs.
 * Read and written here rather than through noble's Signature, which cost about 2 us a call
 * (about 3.5 us of the service's CPU per request in a profile of ECDSA-only signing at 50
 * connections) for two length bytes and a comparison. test/core/crypto/ecdsa-low-s.test.ts
 * holds it to noble's answer on thousands of OpenSSL signatures; anything but OpenSSL's form
 * goes through noble.
 */
export function lowS(signature: Uint8Array): Uint8Array {
  const scalars = derScalars(signature);
  if (!scalars) {
    const sig = p256.Signature.fromBytes(signature, 'der');
    return sig.hasHighS() ? new p256.Signature(sig.r, N - sig.s).toBytes('der') : signature;
  }
  const [r, s] = scalars;
  if (compareScalars(s, HALF_N_BYTES) <= 0) return signature;
  const flipped = (N - BigInt(`0x${bytesToHex(s)}`)).toString(16);
  const rInteger = derInteger(r);
  const sInteger = derInteger(hexToBytes(flipped.length % 2 ? `0${flipped}` : flipped));
  return concatBytes(new Uint8Array([0x30, rInteger.length + sInteger.length]), rInteger, sInteger);
}

/**
 * The low-S DER form of an IEEE P1363 `r‖s` signature (what a PKCS#11 token's CKM_ECDSA
 * returns); throws when it is not 64 bytes with 1 ≤ r, s < n.
 */
export function lowSDerOfRaw(raw: Uint8Array): Uint8Array {
  if (raw.length !== 2 * COORDINATE) throw new TypeError(`a raw ECDSA P-256 signature is ${2 * COORDINATE} bytes, got ${raw.length}`);
  return lowS(p256.Signature.fromBytes(raw, 'compact').toBytes('der'));
}

/** Whether a DER signature's s is above n/2. */
export function hasHighS(signature: Uint8Array): boolean {
  return p256.Signature.fromBytes(signature, 'der').hasHighS();
}

export const ECDSA_P256: SignatureAlgorithm = {
  id: 'ECDSA P-256',
  name: 'ecdsa-p256',
  jwsAlg: 'ES256',
  keyDetails: 'PKIX_ECDSA_P256_SHA_256',
  publicKeyLength: PUBLIC_KEY_LENGTH,
  signatureLength: { min: DER_MIN, max: DER_MAX },
  spki(publicKey) {
    if (!isPoint(publicKey)) throw new TypeError('an ECDSA P-256 public key is a 65-byte uncompressed point on the curve');
    return concatBytes(SPKI_PREFIX, publicKey);
  },
  fromSpki(der) {
    if (der.length !== SPKI_PREFIX.length + PUBLIC_KEY_LENGTH || !equalBytes(der.subarray(0, SPKI_PREFIX.length), SPKI_PREFIX)) return undefined;
    const point = der.slice(SPKI_PREFIX.length);
    return isPoint(point) ? point : undefined;
  },
  jwk(publicKey) {
    return { kty: 'EC', crv: 'P-256', x: toBase64Url(publicKey.subarray(1, 1 + COORDINATE)), y: toBase64Url(publicKey.subarray(1 + COORDINATE)) };
  },
  fromJwk(jwk) {
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') return undefined;
    const x = fromBase64Url(jwk.x);
    const y = fromBase64Url(jwk.y);
    if (!x || !y || x.length !== COORDINATE || y.length !== COORDINATE) return undefined;
    const point = concatBytes(new Uint8Array([0x04]), x, y);
    return isPoint(point) ? point : undefined;
  },
  signatureProblem: derSignatureProblem,
  isStrictKey: isPoint,
  isStrictSignature: (signature) => derSignatureProblem(signature) === undefined,
  verify(signature, message, publicKey) {
    if (derSignatureProblem(signature) !== undefined || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
    try {
      // prehash: SHA-256 of the message; lowS: false, see the header.
      return p256.verify(signature, message, publicKey, { format: 'der', lowS: false });
    } catch {
      return false;
    }
  },
};
