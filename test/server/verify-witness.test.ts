// The witness cases (test/support/witness-cases.ts) on a live service's own log: POST /v1/verify
// with the client's policy and proof gives the expected reasons, and the portable verifier with
// the keys the service lists gives the same ones. The cases that revoke the release key run on
// the vectors only (test/core/tlog/witness-vectors.test.ts): revoking here would change every
// other case. Also: the policy is refused with 400 when malformed, and a proof needs a policy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import { fromBase64 } from '../../src/core/bytes.ts';
import type { Bundle } from '../../src/core/bundle.ts';
import { cosignatureMessage, witnessKeyOf } from '../../src/core/tlog/cosignature.ts';
import { formatCheckpoint } from '../../src/core/tlog/checkpoint.ts';
import { formatVkey, NOTE_TYPE, parseVkey } from '../../src/core/tlog/vkey.ts';
import { keySet, parseWitnessPolicy, verifyBundle } from '../../src/core/verifier.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { trustedKeyOf } from '../../src/core/keys/key.ts';
import { signRelease } from '../support/keys.ts';
import { cosignatureLine, witnessCases, type WitnessCase, type WitnessWorld } from '../support/witness-cases.ts';
import { codesOf } from '../support/witness-vectors.ts';

function pqWitness(i: number): WitnessWorld['pq'][number] {
  const { publicKey, secretKey } = ml_dsa44.keygen(new Uint8Array(32).fill(0x90 + i));
  const vkey = formatVkey(`pq-live-${i}.example.org`, NOTE_TYPE.mldsa44, publicKey);
  const key = witnessKeyOf(parseVkey(vkey));
  return { vkey, cosign: (c, ts) => cosignatureLine(key, ts, ml_dsa44.sign(cosignatureMessage(key, ts, c, formatCheckpoint(c)), secretKey)) };
}

describe('witness policies in POST /v1/verify', () => {
  let t: TestApp;
  let cases: WitnessCase[];
  before(async () => {
    t = await createTestApp();
    const pub = await t.publisherToken('acme');
    for (let i = 1; i <= 2; i++) await signRelease(t, pub, `${i}.0`);
    const target = await signRelease(t, pub, '3.0');
    for (let i = 4; i <= 6; i++) await signRelease(t, pub, `${i}.0`);
    const bundle = target.body.bundle as Bundle;
    const entry = bundle.verificationMaterial.tlogEntries[0] as { inclusionProof: { treeSize: string } };
    const proofAt = async (index: number, size: number) => (await t.app.inject({ url: `/v1/log/proofs/inclusion?index=${index}&treeSize=${size}` })).json() as { rootHash: string; hashes: string[] };
    const laterSize = Number((await t.app.inject({ url: '/v1/log/checkpoint' })).body.split('\n')[1]);
    const firstSize = Number(entry.inclusionProof.treeSize);
    const world: WitnessWorld = {
      origin: (await t.app.inject({ url: '/v1/log/checkpoint' })).body.split('\n')[0]!,
      index: target.body.logIndex,
      firstSize,
      laterSize,
      smallerSize: firstSize - 1,
      bundle,
      root: async (size) => fromBase64((await proofAt(0, size)).rootHash)!,
      inclusion: async (index, size) => (await proofAt(index, size)).hashes.map((h) => fromBase64(h)!),
      logSigner: t.services.keys.signer('log'),
      now: Math.floor(t.services.clock.now().getTime() / 1000),
      pq: [0, 1, ...Array.from({ length: 14 }, (_, i) => i + 2)].map(pqWitness),
    };
    assert.ok(laterSize > firstSize && firstSize > world.index, `later ${laterSize}, first ${firstSize}, index ${world.index}`);
    cases = (await witnessCases(world)).filter((c) => c.releaseKeyCompromisedAt === null);
  });
  after(() => t.close());

  it('gives each case its expected reasons, the same as the portable verifier with the keys the service lists', async () => {
    const trust = keySet(t.services.keys.list().map(trustedKeyOf));
    const wrong: string[] = [];
    for (const c of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle: c.bundle, policy: c.policy, ...(c.proof !== null ? { proof: c.proof } : {}) } });
      assert.equal(res.statusCode, 200, `${c.name}: ${res.body}`);
      const online = codesOf(res.json());
      const offline = codesOf(verifyBundle(c.bundle, { ...trust, witnesses: { policy: parseWitnessPolicy(c.policy), ...(c.proof !== null ? { proof: c.proof } : {}), now: t.services.clock.now().getTime() } }));
      if (JSON.stringify(online) !== JSON.stringify(c.expect.reasons) || JSON.stringify(offline) !== JSON.stringify(c.expect.reasons)) wrong.push(`${c.name}: online ${online}, offline ${offline}, expected ${c.expect.reasons}`);
    }
    assert.deepEqual(wrong, []);
    assert.ok(cases.length >= 24);
  });

  it('answers 400 witness_policy_malformed for a malformed policy, and 400 for a proof without a policy', async () => {
    const bundle = cases[0]!.bundle;
    const bad = await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle, policy: 'quorum nobody\n' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(bad.json().code, 'witness_policy_malformed');
    assert.match(bad.json().detail, /line 1/);
    const lone = await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle, proof: cases.find((c) => c.proof)!.proof } });
    assert.equal(lone.statusCode, 400);
    assert.equal(lone.json().code, 'validation_failed');
    const none = await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle } });
    assert.deepEqual(codesOf(none.json()), [], 'without a policy nothing about witnesses is asked');
  });
});
