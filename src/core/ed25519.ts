// The reference Ed25519 of modelsign (@noble/curves). The server signs on its hot path with
// node:crypto (src/services/node-ed25519.ts); test/core/ed25519-parity.test.ts proves the two
// produce byte-identical signatures. Verification is strict RFC 8032 (zip215: false): the
// signature must be canonical, so a bundle has exactly one valid signature encoding.
import { ed25519 } from '@noble/curves/ed25519.js';

export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

export type Ed25519Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

export function ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return ed25519.sign(message, seed);
}

export const ed25519Verify: Ed25519Verify = (signature, message, publicKey) => {
  if (signature.length !== ED25519_SIGNATURE_LENGTH || publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
};
