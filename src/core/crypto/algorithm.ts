// A signature algorithm as one record: how its public keys are encoded (SPKI, JWK) and what the
// ecosystem calls it (JWS alg, Sigstore key details, C2SP signed-note signature types), and how
// a signature is verified. Everything that verifies, encodes or names a key goes through a record
// (registry.ts), so a second algorithm is one record, not an edit in every file that touches keys.
// Shaped after noble-curves' Signer and Vault transit's KeyType.

/** Algorithms a key may have. `keys.algorithm` in the database holds these names. */
export type AlgorithmId = 'Ed25519' | 'ECDSA P-256';

/** The names admins and the API use; openapi.yaml's SigningAlgorithm. */
export type AlgorithmName = 'ed25519' | 'ecdsa-p256';

/** The public members of a key's JWK (RFC 8037, RFC 7518). */
export interface PublicJwk {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256';
  x: string;
  y?: string;
}

export interface SignatureAlgorithm {
  readonly id: AlgorithmId;
  /** The name admins and the API use (`ed25519`, `ecdsa-p256`). */
  readonly name: AlgorithmName;
  /** The JWS `alg` (RFC 7518, RFC 8037) of tokens signed with it. */
  readonly jwsAlg: 'EdDSA' | 'ES256';
  /** Sigstore's PublicKeyDetails name (protobuf-specs), for trusted roots and bundles. */
  readonly keyDetails: string;
  /** C2SP signed-note signature types, where notes can be signed with it. */
  readonly note?: { readonly signature: number; readonly cosignature: number };
  /** Length of the raw public key, in bytes. */
  readonly publicKeyLength: number;
  /** Shortest and longest well-formed signature, in bytes. */
  readonly signatureLength: { readonly min: number; readonly max: number };
  /** SubjectPublicKeyInfo DER of a raw public key; throws TypeError on a wrong length. */
  spki(publicKey: Uint8Array): Uint8Array;
  /** The raw public key inside SPKI DER, or undefined when the DER is not a key of this algorithm. */
  fromSpki(der: Uint8Array): Uint8Array | undefined;
  /** The public JWK members (kty, crv, x...) of a raw public key. */
  jwk(publicKey: Uint8Array): PublicJwk;
  /** The raw public key of a public JWK of this algorithm, or undefined. */
  fromJwk(jwk: Record<string, unknown>): Uint8Array | undefined;
  /** Why a signature is not well formed for this algorithm (length, encoding), or undefined. */
  signatureProblem(signature: Uint8Array): string | undefined;
  /** Strict verification; false for anything malformed, never a throw. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  /**
   * Whether `verify` could accept this public key at all. With `isStrictSignature`, this is what
   * `verify` refuses before any arithmetic (non-canonical encodings, small-order points, S ≥ L,
   * points off the curve) and what another implementation of the same equation (OpenSSL, through
   * node:crypto) may not check: a `true` from it stands as this record's verdict only for a key
   * and signature that pass both (services/node-verifier.ts).
   */
  isStrictKey(publicKey: Uint8Array): boolean;
  isStrictSignature(signature: Uint8Array): boolean;
}

/** Verifies one signature with one key; false for anything malformed, never a throw. */
export type SignatureVerifier = (key: { readonly algorithm: AlgorithmId; readonly publicKey: Uint8Array }, signature: Uint8Array, message: Uint8Array) => boolean;

/**
 * Something that signs with one key and knows which: the service's keys (node:crypto, or a
 * hardware token), and the reference signers in tests. Asynchronous because a key held in an HSM
 * answers over a device round trip.
 */
export interface Signer {
  readonly kid: string;
  readonly algorithm: AlgorithmId;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
  /**
   * Signs many messages at once, when the signer can do better than one after another (node:crypto
   * keys sign on the libuv thread pool, off the event loop); same results as sign().
   */
  signMany?(messages: Uint8Array[]): Promise<Uint8Array[]>;
}
