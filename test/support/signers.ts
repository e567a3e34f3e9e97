// Reference signers for tests: @noble/curves keys from fixed seeds, shaped as the service's Signer.
import type { Signer } from '../../src/core/crypto/algorithm.ts';
import { ed25519PublicKey, ed25519Sign } from '../../src/core/crypto/ed25519.ts';
import { keyIdOf } from '../../src/core/crypto/public-key.ts';

export function referenceSigner(seed: Uint8Array): Signer {
  const publicKey = ed25519PublicKey(seed);
  return { kid: keyIdOf({ algorithm: 'Ed25519', publicKey }), algorithm: 'Ed25519', publicKey, sign: async (m) => ed25519Sign(m, seed) };
}
