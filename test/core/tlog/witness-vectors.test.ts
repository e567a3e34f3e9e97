// The witness cases on the committed vectors, in the portable verifier: every case's verdict, the
// vectors remade byte for byte from their generator (so the file holds what the code says), and
// the ML-DSA-44 cosignatures pyca made once, checked on every run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keySet, parseWitnessPolicy, verifyBundle } from '../../../src/core/verifier.ts';
import { vectorCases } from '../../vectors/witness/vector-cases.ts';
import { caseKeys, codesOf, witnessVectors } from '../../support/witness-vectors.ts';

const vectors = witnessVectors();

describe('witness vectors (test/vectors/witness)', () => {
  it('are what their generator makes from the fixed world and the pyca ML-DSA-44 cosignatures', async () => {
    assert.deepEqual(JSON.parse(JSON.stringify(await vectorCases())), vectors);
  });

  it('hold every kind of case the verifiers must agree on', () => {
    assert.ok(vectors.cases.length >= 25);
    const codes = new Set(vectors.cases.flatMap((c) => c.expect.reasons));
    for (const code of ['witness_quorum_not_met', 'witness_signature_invalid', 'witness_proof_invalid', 'witness_policy_invalid', 'key_revoked']) assert.ok(codes.has(code), code);
    const lines = vectors.cases.find((c) => c.name === 'thirty-four-lines')!.proof!.split('\n').filter((l) => l.startsWith('\u2014 '));
    assert.equal(lines.length, 34);
    assert.equal(lines.filter((l) => l.length > 3000).length, 16, 'sixteen ML-DSA-44 lines');
  });

  for (const c of vectors.cases) {
    it(`portable verifier: ${c.name}`, () => {
      const verdict = verifyBundle(c.bundle, { ...keySet(caseKeys(vectors, c)), witnesses: { policy: parseWitnessPolicy(c.policy), ...(c.proof !== null ? { proof: c.proof } : {}), now: c.now * 1000 } });
      assert.deepEqual(codesOf(verdict), c.expect.reasons, JSON.stringify(verdict.reasons));
      assert.equal(verdict.valid, c.expect.valid);
      if (c.expect.reasons.includes('witness_quorum_not_met') && c.proof === null) assert.match(verdict.reasons[0]!.message, /\.tlog-proof/);
    });
  }

  it('gives the same verdict by logged time with and without the proof (revocation keeps using the bundle\'s own checkpoint)', () => {
    for (const name of ['revoked-after-logged-with-proof', 'revoked-before-logged-with-proof']) {
      const c = vectors.cases.find((x) => x.name === name)!;
      const trust = keySet(caseKeys(vectors, c));
      const withProof = verifyBundle(c.bundle, { ...trust, witnesses: { policy: parseWitnessPolicy(c.policy), proof: c.proof!, now: c.now * 1000 } });
      const without = verifyBundle(c.bundle, trust);
      assert.deepEqual(codesOf(without), codesOf(withProof), name);
      assert.equal(without.integratedTime, withProof.integratedTime);
    }
  });
});
