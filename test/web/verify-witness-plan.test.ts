// The console's verifier on the witness vectors (the same cases as the portable verifier, POST
// /v1/verify and the CLI), and which picked file is the witness proof.
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWitnessPolicy } from '../../src/core/tlog/witness-policy.ts';
import { MAX_PROOF_BYTES, planVerification, verifyWithTrust } from '../../src/web/verify-plan.ts';
import { caseKeys, codesOf, witnessVectors } from '../support/witness-vectors.ts';

const f = (path: string, size = 1) => ({ path, file: { size } });
const vectors = witnessVectors();

describe('the console\'s witness check', () => {
  it('takes the bundle\'s name + .tlog-proof as its proof, never as a file to check', () => {
    const folder = planVerification([f('model.sig'), f('model.sig.tlog-proof'), f('w.bin'), f('other.tlog-proof')]);
    assert.ok(folder.ok);
    assert.equal(folder.proof?.path, 'model.sig.tlog-proof');
    assert.deepEqual(folder.files.map((p) => p.path), ['w.bin', 'other.tlog-proof']);
    const single = planVerification([f('m.ckpt'), f('m.ckpt.sig'), f('m.ckpt.sig.tlog-proof')]);
    assert.ok(single.ok && single.proof?.path === 'm.ckpt.sig.tlog-proof' && single.files.length === 1);
    const big = planVerification([f('model.sig'), f('model.sig.tlog-proof', MAX_PROOF_BYTES + 1), f('w.bin')]);
    assert.ok(!big.ok && /tlog-proof is at most/.test(big.message));
  });

  for (const c of vectors.cases) {
    it(`${c.name}`, () => {
      const verdict = verifyWithTrust(c.bundle, caseKeys(vectors, c), { policy: parseWitnessPolicy(c.policy), proof: c.proof ?? undefined }, c.now * 1000);
      assert.deepEqual(codesOf(verdict), c.expect.reasons);
    });
  }
});
