// The Ed25519 record of the algorithm registry against RFC 8032, Wycheproof and the small-order
// edge cases: its verify is the one every verdict of modelsign depends on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex } from '../../../src/core/bytes.ts';
import { ED25519, ed25519PublicKey, ed25519Sign } from '../../../src/core/crypto/ed25519.ts';
import { edgeCaseVectors, signVectors, wycheproofVectors } from '../../support/ed25519-vectors.ts';

const ed25519Verify = ED25519.verify;

describe('Ed25519 reference (@noble/curves)', () => {
  it('derives the public key and signature of all 1024 RFC 8032 / SUPERCOP vectors', () => {
    const vectors = signVectors();
    assert.equal(vectors.length, 1024);
    for (const v of vectors) {
      assert.equal(bytesToHex(ed25519PublicKey(v.seed)), bytesToHex(v.publicKey));
      assert.equal(bytesToHex(ed25519Sign(v.message, v.seed)), bytesToHex(v.signature));
      assert.ok(ed25519Verify(v.signature, v.message, v.publicKey));
    }
  });

  it('agrees with every Wycheproof verification verdict (including malleable S)', () => {
    const vectors = wycheproofVectors();
    assert.equal(vectors.length, 145);
    for (const v of vectors) assert.equal(ed25519Verify(v.signature, v.message, v.publicKey), v.valid, v.id);
  });

  it('keeps strict RFC 8032 verdicts on the small-order and mixed-order edge cases', () => {
    // The verdicts of strict (non-ZIP-215) verification with small-order key rejection. OpenSSL
    // accepts cases 0, 1 and 11 and refuses 4 and 5; a change here means the verifier's rules
    // changed and offline and online verdicts could diverge.
    const verdicts = edgeCaseVectors().map((v) => ed25519Verify(v.signature, v.message, v.publicKey));
    assert.deepEqual(verdicts, [false, false, true, true, true, true, false, false, false, false, false, false]);
  });
});
