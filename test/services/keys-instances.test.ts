// With several instances on one database: concurrent
// rotations, token revocation and publisher disabling seen by another instance, and KEK rewrap
// under signing load.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyKeyChain } from '../../src/core/keys/key-chain.ts';
import { unwrapKey } from '../../src/services/key-backends/kek.ts';
import { bearer, createTestApp, testKek, type TestApp } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { codes, offlineVerdict, onlineVerdict, signRelease } from '../support/keys.ts';

async function activeCount(database: TestDatabase): Promise<number> {
  const [row] = await database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "keys" WHERE "purpose" = 'release' AND "algorithm" = 'Ed25519' AND "status" = 'active'`);
  return row!.n;
}

describe('two instances on one database', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const kek = testKek();
  before(async () => {
    database = await createTestDatabase();
    [a, b] = await Promise.all([createTestApp({ database, kek }), createTestApp({ database, kek })]);
  });
  after(async () => {
    await a.close();
    await b.close();
    await database.drop();
  });

  it('asked to rotate at the same moment, rotate once: one new active key', async () => {
    const current = a.services.keys.list().find((k) => k.purpose === 'release' && k.algorithm === 'Ed25519' && k.status === 'active')!.kid;
    const [adminA, adminB] = await Promise.all([a.adminToken(), b.adminToken()]);
    const responses = await Promise.all(
      [a, b].map((t, i) => t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(i === 0 ? adminA : adminB), payload: { purpose: 'release', expectedActive: current } })),
    );
    assert.deepEqual(responses.map((r) => r.statusCode).sort(), [200, 409]);
    assert.equal(responses.find((r) => r.statusCode === 409)!.json().code, 'rotation_conflict');
    assert.equal(await activeCount(database), 1);
    const [row] = await database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "keys" WHERE "purpose" = 'release' AND "algorithm" = 'Ed25519'`);
    assert.equal(row!.n, 2, 'exactly one new key');
  });

  it('200 concurrent signing requests during rotations all succeed and every bundle verifies', async () => {
    const pubA = await a.publisherToken('acme');
    const pubB = await b.publisherToken('acme');
    const adminA = await a.adminToken();
    const adminB = await b.adminToken();
    // Four waves of 50 concurrent requests across both instances, each wave racing a rotation.
    const results: Awaited<ReturnType<typeof signRelease>>[] = [];
    const rotated = [];
    for (let wave = 0; wave < 4; wave++) {
      const t = wave % 2 ? b : a;
      const [rotation, ...signed] = await Promise.all([
        wave < 3 ? t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(t === a ? adminA : adminB), payload: { purpose: 'release' } }) : undefined,
        ...Array.from({ length: 50 }, (_, i) => signRelease(i % 2 ? a : b, i % 2 ? pubA : pubB, `5.${wave}.${i}`)),
      ]);
      if (rotation) rotated.push(rotation);
      results.push(...(signed as Awaited<ReturnType<typeof signRelease>>[]));
    }
    assert.equal(results.length, 200);
    assert.ok(rotated.every((r) => r.statusCode === 200), rotated.map((r) => r.body).join('\n'));
    assert.ok(results.every((r) => r.status === 201), JSON.stringify(results.find((r) => r.status !== 201)?.body));
    assert.equal(await activeCount(database), 1);
    await a.services.watcher.check();
    for (const r of results) {
      assert.deepEqual(offlineVerdict(a, r.body.bundle).reasons, [], r.body.kid);
      assert.deepEqual((await onlineVerdict(a, r.body.bundle)).reasons, []);
    }
    assert.ok(new Set(results.map((r) => r.body.kid)).size >= 2, 'the bundles span rotations');
    // The chain still leads from the first release key to the active one.
    const first = a.services.keys.list().filter((k) => k.purpose === 'release')[0]!;
    const trusted = verifyKeyChain((await a.app.inject({ url: '/v1/keys/chain' })).json(), first);
    const active = a.services.keys.list().find((k) => k.purpose === 'release' && k.algorithm === 'Ed25519' && k.status === 'active')!;
    assert.ok(trusted.some((k) => k.kid === active.kid));
  });

  it('a token revoked on one instance is refused by the other within one second', async () => {
    const token = await a.publisherToken('acme');
    assert.equal((await signRelease(b, token, '6.0')).status, 201);
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti;
    const revoked = await a.app.inject({ method: 'DELETE', url: `/v1/admin/tokens/${jti}`, headers: bearer(await a.adminToken()) });
    assert.equal(revoked.statusCode, 204);
    const started = performance.now();
    let answer = await signRelease(b, token, '6.1');
    for (let i = 1; answer.status !== 401 && performance.now() - started < 1000; i++) {
      await new Promise((r) => setTimeout(r, 20));
      answer = await signRelease(b, token, `6.1.${i}`);
    }
    const elapsed = performance.now() - started;
    assert.equal(answer.status, 401);
    assert.equal(answer.body.code, 'token_revoked');
    assert.ok(elapsed < 1000, `refused after ${elapsed.toFixed(0)} ms`);
  });

  it('a disabled publisher\'s tokens are refused at once (and by the other instance within one second)', async () => {
    const token = await a.publisherToken('acme');
    assert.equal((await signRelease(a, token, '7.0')).status, 201);
    assert.equal((await signRelease(b, token, '7.1')).status, 201);
    const res = await a.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(await a.adminToken()), payload: { disabled: true } });
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(res.json().disabledAt);
    const refused = await signRelease(a, token, '7.2');
    assert.deepEqual([refused.status, refused.body.code], [401, 'publisher_disabled']);
    const started = performance.now();
    let other = await signRelease(b, token, '7.3');
    for (let i = 0; other.status !== 401 && performance.now() - started < 1000; i++) {
      await new Promise((r) => setTimeout(r, 20));
      other = await signRelease(b, token, `7.3.${i}`);
    }
    assert.deepEqual([other.status, other.body.code], [401, 'publisher_disabled']);
    assert.ok(performance.now() - started < 1000);
    await a.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(await a.adminToken()), payload: { disabled: false } });
  });

  // Last: it revokes the release key the other tests sign with.
  it('a bundle verified (and its signatures remembered) before its key is revoked is judged again: at once here, within one poll there', async () => {
    const signed = await signRelease(a, await a.publisherToken('acme'), '8.0');
    assert.equal(signed.status, 201);
    let bundle = signed.body.bundle;
    for (let i = 0; bundle.verificationMaterial.tlogEntries.length === 0 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 20));
      bundle = (await a.app.inject({ url: `/v1/signatures/${signed.body.id}` })).json().bundle;
    }
    for (const t of [a, b, a, b]) assert.equal((await onlineVerdict(t, bundle)).valid, true);
    const key = a.services.keys.list().find((k) => k.kid === signed.body.kid)!;
    const revoked = await a.app.inject({
      method: 'POST',
      url: `/v1/admin/keys/${key.kid}/revoke`,
      headers: bearer(await a.adminToken()),
      payload: { compromisedAt: key.createdAt.toISOString(), reason: 'test: verdicts must follow' },
    });
    assert.equal(revoked.statusCode, 200, revoked.body);
    const here = await onlineVerdict(a, bundle);
    assert.deepEqual([here.valid, here.keyStatus, codes(here)], [false, 'revoked', ['key_revoked']]);
    const started = performance.now();
    let there = await onlineVerdict(b, bundle);
    while (there.valid && performance.now() - started < 1000) {
      await new Promise((r) => setTimeout(r, 10));
      there = await onlineVerdict(b, bundle);
    }
    const elapsed = performance.now() - started;
    assert.deepEqual([there.valid, there.keyStatus, codes(there)], [false, 'revoked', ['key_revoked']]);
    // One state poll is 250 ms here; a second of slack for a loaded machine.
    assert.ok(elapsed < 1000, `judged again after ${elapsed.toFixed(0)} ms`);
  });
});

describe('KEK rewrap', () => {
  it('re-encrypts every key under the new KEK while signing goes on; the old KEK decrypts nothing', async () => {
    const database = await createTestDatabase();
    const oldKek = testKek();
    const newKek = testKek();
    const service = await createTestApp({ database, kek: oldKek, keyBackend: 'kek' });
    const operator = await createTestApp({ database, kek: oldKek, keyBackend: 'kek' });
    try {
      const pub = await service.publisherToken('acme');
      const load = (async () => {
        const results = [];
        for (let wave = 0; wave < 6; wave++) results.push(...(await Promise.all(Array.from({ length: 25 }, (_, i) => signRelease(service, pub, `8.${wave}.${i}`)))));
        return results;
      })();
      await new Promise((r) => setTimeout(r, 20));
      const count = await operator.services.keys.rewrap(newKek, 'test');
      const results = await load;
      assert.ok(results.every((r) => r.status === 201), 'no signing request failed');
      assert.ok(count.keys >= 3);
      assert.equal(count.skipped, 0);

      const rows = await database.db.query<{ kid: string; private_key_ct: Uint8Array; kek_id: string }>('SELECT "kid", "private_key_ct", "kek_id" FROM "keys"');
      for (const row of rows) {
        assert.equal(row.kek_id, newKek.id);
        assert.throws(() => unwrapKey(oldKek, row.kid, new Uint8Array(row.private_key_ct)), `old KEK opens ${row.kid}`);
        assert.equal(unwrapKey(newKek, row.kid, new Uint8Array(row.private_key_ct)).length, 32);
      }
      // The instance still on the old KEK keeps signing but may not add keys under it.
      const admin = await service.adminToken();
      const refused = await service.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'log' } });
      assert.deepEqual([refused.statusCode, refused.json().code], [503, 'kek_mismatch']);
      assert.equal((await signRelease(service, pub, '9.0')).status, 201);

      // Restarted with the new KEK, every key signs: release (bundles), log (checkpoints), token (JWTs).
      const restarted = await createTestApp({ database, kek: newKek, keyBackend: 'kek' });
      try {
        const token = await restarted.publisherToken('acme');
        const signed = await signRelease(restarted, token, '9.1');
        assert.equal(signed.status, 201);
        assert.deepEqual(offlineVerdict(restarted, signed.body.bundle).reasons, []);
        const rotated = await restarted.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(await restarted.adminToken()), payload: { purpose: 'log' } });
        assert.equal(rotated.statusCode, 200, rotated.body);
      } finally {
        await restarted.close();
      }
    } finally {
      await service.close();
      await operator.close();
      await database.drop();
    }
  });
});

describe('a token key rotated in by another instance', () => {
  it('is found at once when a token names it, not only at the next state poll', async () => {
    const database = await createTestDatabase();
    const kek = testKek();
    const a = await createTestApp({ database, kek });
    // b would not poll again within the test: only looking up the unknown kid can help it.
    const b = await createTestApp({ database, kek, statePollMs: 60_000 });
    try {
      const rotated = await a.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(await a.adminToken()), payload: { purpose: 'token' } });
      assert.equal(rotated.statusCode, 200, rotated.body);
      const fresh = await a.adminToken();
      const kid = JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid as string;
      assert.equal(kid, rotated.json().active.kid, 'signed by the new token key');
      assert.equal(b.services.keys.get(kid), undefined, 'b has not seen the new key yet');
      const res = await b.app.inject({ url: '/v1/admin/publishers', headers: bearer(fresh) });
      assert.equal(res.statusCode, 200, res.body);
      // Same for a bundle signed by a release key b has not seen yet.
      const rotatedRelease = await a.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(fresh), payload: { purpose: 'release' } });
      assert.equal(rotatedRelease.statusCode, 200);
      const signed = await signRelease(a, await a.publisherToken('acme'), '7.0');
      assert.equal(signed.body.kid, rotatedRelease.json().active.kid);
      await new Promise((r) => setTimeout(r, 150)); // past refresh()'s 100 ms spacing after the token lookup above
      assert.equal(b.services.keys.get(signed.body.kid), undefined, 'b has not seen the new release key yet');
      assert.equal((await onlineVerdict(b, signed.body.bundle)).valid, true);
      // A kid nobody has is still refused, and does not trigger a reload per request.
      const forged = `${Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT', kid: 'f'.repeat(64) })).toString('base64url')}.${fresh.split('.')[1]}.${fresh.split('.')[2]}`;
      for (let i = 0; i < 3; i++) assert.equal((await b.app.inject({ url: '/v1/admin/publishers', headers: bearer(forged) })).json().code, 'token_invalid');
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});
