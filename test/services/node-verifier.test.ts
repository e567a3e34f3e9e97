// The service's OpenSSL signature check against the strict verifier every client runs
// (core/crypto, @noble/curves): one parametrised suite over both algorithms and every vector we
// hold, asserting identical verdicts, first and repeated (a remembered `true` must never leak to
// another key, signature or message). The edge cases where OpenSSL alone disagrees with the
// strict verifier are asserted to exist, so the checks that close the gap are shown to matter.
// Tier: quick
import assert from 'node:assert/strict';
import { createPublicKey, verify as opensslVerify } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AlgorithmId } from '../../src/core/crypto/algorithm.ts';
import { spkiDer } from '../../src/core/crypto/public-key.ts';
import { algorithmOf } from '../../src/core/crypto/registry.ts';
import { nodeSignatureVerifier } from '../../src/services/node-verifier.ts';
import { p256Vectors } from '../support/ecdsa-vectors.ts';
import { edgeCaseVectors, signVectors, wycheproofVectors } from '../support/ed25519-vectors.ts';

interface Case {
  id: string;
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

const flip = (bytes: Uint8Array, at: number) => {
  const copy = bytes.slice();
  if (copy.length > 0) copy[at % copy.length]! ^= 0x01;
  return copy;
};

/** OpenSSL's own verdict, with no strictness checks (undefined: it would not even load the key). */
function opensslAlone(algorithm: AlgorithmId, c: Case): boolean | undefined {
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(algorithm === 'Ed25519' ? Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), c.publicKey]) : spkiDer({ algorithm, publicKey: c.publicKey })), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
  try {
    return opensslVerify(algorithm === 'Ed25519' ? null : 'sha256', c.message, key, c.signature);
  } catch {
    return false;
  }
}

const suites: { algorithm: AlgorithmId; sets: Record<string, () => Case[]>; minimum: number }[] = [
  {
    algorithm: 'Ed25519',
    minimum: 1024 + 256 + 100,
    sets: {
      'RFC 8032 / SUPERCOP (1024)': () => signVectors().map((v, i) => ({ id: `rfc8032 ${i}`, ...v })),
      // Every false costs a strict (noble) verify on the service path too; one vector in eight
      // keeps these sets meaningful and the suite under ten seconds.
      'RFC 8032 with the message changed (1 in 8)': () => signVectors().filter((_, i) => i % 8 === 0).map((v, i) => ({ id: `rfc8032 tampered ${i}`, ...v, message: flip(v.message.length ? v.message : new Uint8Array(1), i) })),
      'RFC 8032 with the signature changed (1 in 8)': () => signVectors().filter((_, i) => i % 8 === 3).map((v, i) => ({ id: `rfc8032 bad sig ${i}`, ...v, signature: flip(v.signature, i * 7) })),
      Wycheproof: () => wycheproofVectors(),
      'small-order and mixed-order edge cases': () => edgeCaseVectors().map((v, i) => ({ id: `edge ${i}`, ...v })),
    },
  },
  {
    algorithm: 'ECDSA P-256',
    minimum: 400,
    sets: {
      'Wycheproof (DER)': () => p256Vectors('der').map((v) => ({ ...v, id: `wycheproof ${v.id} ${v.comment}` })),
      'Wycheproof as P1363 (refused as malformed)': () => p256Vectors('p1363').map((v) => ({ ...v, id: `p1363 ${v.id}` })),
    },
  },
];

for (const { algorithm, sets, minimum } of suites) {
  describe(`node:crypto verifier = strict verifier (${algorithm})`, () => {
    const strict = algorithmOf(algorithm);
    let total = 0;
    for (const [name, load] of Object.entries(sets)) {
      it(`gives the strict verdict on ${name}, first and remembered`, () => {
        const cases = load();
        total += cases.length;
        const fast = nodeSignatureVerifier();
        const key = (c: Case) => ({ algorithm, publicKey: c.publicKey });
        const expected = cases.map((c) => strict.verify(c.signature, c.message, c.publicKey));
        for (const round of ['first', 'again']) {
          cases.forEach((c, i) => assert.equal(fast(key(c), c.signature, c.message), expected[i], `${c.id} (${round})`));
        }
        // Remembering none gives the same verdicts.
        const bare = nodeSignatureVerifier({ remember: 0 });
        cases.forEach((c, i) => assert.equal(bare(key(c), c.signature, c.message), expected[i], c.id));
      });
    }
    it(`covered at least ${minimum} cases`, () => assert.ok(total >= minimum, `${total} cases`));
  });
}

describe('why the strictness checks exist', () => {
  it('OpenSSL alone accepts Ed25519 edge cases the strict verifier refuses, and the service path does not', () => {
    const fast = nodeSignatureVerifier();
    const gaps = edgeCaseVectors()
      .map((v, i) => ({ id: `edge ${i}`, ...v }))
      .filter((c) => opensslAlone('Ed25519', c) === true && !algorithmOf('Ed25519').verify(c.signature, c.message, c.publicKey));
    assert.ok(gaps.length > 0, 'expected OpenSSL to accept at least one small-order or non-canonical case');
    for (const c of gaps) assert.equal(fast({ algorithm: 'Ed25519', publicKey: c.publicKey }, c.signature, c.message), false, c.id);
  });

  it('OpenSSL alone refuses Ed25519 edge cases the strict (cofactored) verifier accepts, and the service path accepts them', () => {
    const fast = nodeSignatureVerifier();
    const gaps = edgeCaseVectors()
      .map((v, i) => ({ id: `edge ${i}`, ...v }))
      .filter((c) => opensslAlone('Ed25519', c) === false && algorithmOf('Ed25519').verify(c.signature, c.message, c.publicKey));
    assert.ok(gaps.length > 0, 'expected a mixed-order case only the cofactored equation accepts');
    for (const c of gaps) assert.equal(fast({ algorithm: 'Ed25519', publicKey: c.publicKey }, c.signature, c.message), true, c.id);
  });

  it('a remembered signature does not verify under another key, message or algorithm', () => {
    const fast = nodeSignatureVerifier();
    const [a, b] = signVectors();
    assert.equal(fast({ algorithm: 'Ed25519', publicKey: a!.publicKey }, a!.signature, a!.message), true);
    assert.equal(fast({ algorithm: 'Ed25519', publicKey: b!.publicKey }, a!.signature, a!.message), false);
    assert.equal(fast({ algorithm: 'Ed25519', publicKey: a!.publicKey }, a!.signature, b!.message), false);
    assert.equal(fast({ algorithm: 'ECDSA P-256', publicKey: a!.publicKey }, a!.signature, a!.message), false);
  });
});
