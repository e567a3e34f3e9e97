// The service signs with node:crypto (key-backends/node-keys.ts); the reference is @noble/curves.
// Ed25519 is deterministic, so both must produce the same bytes for the same key and message, and
// node must derive the same public key from the stored material.
// Tier: quick
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { bytesToHex } from '../../src/core/bytes.ts';
import { ed25519PublicKey, ed25519Sign } from '../../src/core/crypto/ed25519.ts';
import { keyIdOf } from '../../src/core/crypto/public-key.ts';
import type { PublicKey } from '../../src/core/keys/key.ts';
import { nodeSigner, privateKeyOf, publicKeyOf } from '../../src/services/key-backends/node-keys.ts';
import { signVectors } from '../support/ed25519-vectors.ts';

async function nodeSignature(key: PublicKey, seed: Uint8Array, message: Uint8Array): Promise<{ publicKey: Uint8Array; signature: Uint8Array }> {
  const privateKey = privateKeyOf(key, seed);
  const signer = nodeSigner(keyIdOf(key), key, privateKey);
  return { publicKey: publicKeyOf(privateKey).publicKey, signature: await signer.sign(message) };
}

describe('node:crypto Ed25519 signing matches the reference byte for byte', () => {
  it('over all 1024 RFC 8032 / SUPERCOP vectors', async () => {
    for (const v of signVectors()) {
      const got = await nodeSignature({ algorithm: 'Ed25519', publicKey: v.publicKey }, v.seed, v.message);
      assert.equal(bytesToHex(got.publicKey), bytesToHex(v.publicKey));
      assert.equal(bytesToHex(got.signature), bytesToHex(v.signature));
    }
  });

  it('over 2,000 random keys and messages of random lengths', async () => {
    for (let i = 0; i < 2_000; i++) {
      const seed = new Uint8Array(randomBytes(32));
      const message = new Uint8Array(randomBytes(i % 7 === 0 ? 0 : (i * 131) % 5_000));
      const got = await nodeSignature({ algorithm: 'Ed25519', publicKey: ed25519PublicKey(seed) }, seed, message);
      assert.equal(bytesToHex(got.publicKey), bytesToHex(ed25519PublicKey(seed)));
      assert.equal(bytesToHex(got.signature), bytesToHex(ed25519Sign(message, seed)), `case ${i}`);
    }
  });

  it('signs a batch on the thread pool (signMany) with the same signatures as one by one, in order', async () => {
    const vectors = signVectors().slice(0, 256);
    // 256 messages of different lengths under one key: every signature must land at its message's place.
    const v0 = vectors[0]!;
    const key: PublicKey = { algorithm: 'Ed25519', publicKey: v0.publicKey };
    const signer = nodeSigner(keyIdOf(key), key, privateKeyOf(key, v0.seed));
    const messages = vectors.map((v) => v.message);
    const many = await signer.signMany!(messages);
    assert.equal(many.length, messages.length);
    for (const [i, m] of messages.entries()) assert.equal(bytesToHex(many[i]!), bytesToHex(ed25519Sign(m, v0.seed)), `message ${i}`);
  });

  it('derives the public key from the material alone: a row carrying another key\'s public half is caught', () => {
    const seed = new Uint8Array(32).fill(1);
    const stranger = ed25519PublicKey(new Uint8Array(32).fill(2));
    assert.deepEqual(publicKeyOf(privateKeyOf({ algorithm: 'Ed25519', publicKey: stranger }, seed)).publicKey, ed25519PublicKey(seed));
  });
});
