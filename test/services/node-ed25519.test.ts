import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { bytesToHex } from '../../src/core/bytes.ts';
import { ed25519PublicKey, ed25519Sign } from '../../src/core/ed25519.ts';
import { nodeSign, privateKeyFromSeed, publicKeyOf } from '../../src/services/node-ed25519.ts';
import { signVectors } from '../support/ed25519-vectors.ts';

// The service signs with node:crypto; the reference is @noble/curves. Ed25519 is deterministic,
// so both must produce the same bytes for the same key and message.
describe('node:crypto Ed25519 signing matches the reference byte for byte', () => {
  it('over all 1024 RFC 8032 / SUPERCOP vectors', () => {
    for (const v of signVectors()) {
      const key = privateKeyFromSeed(v.seed);
      assert.equal(bytesToHex(publicKeyOf(key)), bytesToHex(v.publicKey));
      assert.equal(bytesToHex(nodeSign(v.message, key)), bytesToHex(v.signature));
    }
  });

  it('over 2,000 random keys and messages of random lengths', () => {
    for (let i = 0; i < 2_000; i++) {
      const seed = new Uint8Array(randomBytes(32));
      const message = new Uint8Array(randomBytes(i % 7 === 0 ? 0 : (i * 131) % 5_000));
      const key = privateKeyFromSeed(seed);
      assert.equal(bytesToHex(publicKeyOf(key)), bytesToHex(ed25519PublicKey(seed)));
      assert.equal(bytesToHex(nodeSign(message, key)), bytesToHex(ed25519Sign(message, seed)), `case ${i}`);
    }
  });
});
