// The vocabulary of keys: what a key is for, where it is in its lifecycle, and the public record
// every layer shares (the service's key table, the JWKS, the verifier's trusted keys).
import type { AlgorithmId } from '../crypto/algorithm.ts';

/**
 * `release` signs model releases, `log` signs checkpoints, `token` signs bearer tokens; `witness`
 * cosigns other logs' checkpoints (`modelsign witness`: a witness's database holds only that one).
 */
export const KEY_PURPOSES = ['release', 'log', 'token', 'witness'] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

/** pending → active → retired, and any state → revoked (see lifecycle.ts). */
export const KEY_STATUSES = ['pending', 'active', 'retired', 'revoked'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

export function isKeyPurpose(value: unknown): value is KeyPurpose {
  return (KEY_PURPOSES as readonly unknown[]).includes(value);
}

export function isKeyStatus(value: unknown): value is KeyStatus {
  return (KEY_STATUSES as readonly unknown[]).includes(value);
}

/** A public key and the algorithm it belongs to; the raw bytes mean nothing without it. */
export interface PublicKey {
  algorithm: AlgorithmId;
  /** The algorithm's own raw encoding (RFC 8032 for Ed25519). */
  publicKey: Uint8Array;
}

/** A key a verifier trusts, with the status that limits what it vouches for. */
export interface TrustedKey extends PublicKey {
  kid: string;
  purpose: KeyPurpose;
  status: KeyStatus;
  /** For a revoked key: signatures the log proves were made before this time stay valid. */
  compromisedAt?: Date | null;
}

/** A key as the service records and publishes it (never its private half). */
export interface KeyRecord extends PublicKey {
  kid: string;
  purpose: KeyPurpose;
  status: KeyStatus;
  createdAt: Date;
  activatedAt: Date | null;
  /** For a pending key: when scheduled rotation makes it active. */
  activatesAt: Date | null;
  retiredAt: Date | null;
  revokedAt: Date | null;
  compromisedAt: Date | null;
  reason: string | null;
}

/** A link of the rotation chain as stored: a DSSE-signed statement introducing `kid` (core/keys/key-chain.ts). */
export interface KeyLink {
  seq: number;
  purpose: KeyPurpose;
  signerKid: string;
  kid: string;
  payload: Uint8Array;
  signature: Uint8Array;
  createdAt: Date;
}

/** What a verifier needs of a key record. */
export function trustedKeyOf(record: KeyRecord): TrustedKey {
  return { kid: record.kid, algorithm: record.algorithm, publicKey: record.publicKey, purpose: record.purpose, status: record.status, compromisedAt: record.compromisedAt };
}
