// Keys the service makes in a PKCS#11 token (SoftHSM2): made there non-extractable, named in
// their rows without key material, checked against their rows when loaded, ECDSA signatures
// normalised to low-S, destroyed after revocation, and left alone by `rewrap`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { p256 } from '@noble/curves/nist.js';
import { CKA, CKO } from '../../src/services/key-backends/pkcs11/constants.ts';
import type { Pkcs11Module } from '../../src/services/key-backends/pkcs11/binding.ts';
import { RETIRED_OBJECT_GRACE_MS } from '../../src/services/keys.ts';
import { bearer, createTestApp, MutableClock, testKek, type TestApp } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { codes, offlineVerdict, onlineVerdict, signRelease } from '../support/keys.ts';
import { objectsWithId, softHsmSkip, withTokenSession } from '../support/softhsm.ts';

const skip = softHsmSkip();
const classOf = (module: Pkcs11Module, session: number, object: number) => Number(module.attribute(session, object, CKA.CLASS).readBigUInt64LE());

interface TokenRow {
  kid: string;
  purpose: string;
  algorithm: string;
  status: string;
  private_key_ct: Uint8Array | null;
  kek_id: string | null;
  pkcs11_id: Uint8Array | null;
  pkcs11_label: string | null;
  pkcs11_token: string | null;
  destroyed_at: Date | null;
}

describe('keys in a PKCS#11 token', { skip }, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ keyBackend: 'pkcs11' });
  });
  after(() => t?.close());

  const rows = () => t.database.db.query<TokenRow>('SELECT * FROM "keys" ORDER BY "created_at", "kid"');

  it('are made in the token: local, always sensitive, never extractable, CKA_VALUE unreadable; rows hold no ciphertext', async () => {
    const keys = await rows();
    assert.equal(keys.length, 4, 'release (both algorithms), log and token keys');
    for (const key of keys) {
      assert.equal(key.private_key_ct, null, `${key.kid} has no ciphertext`);
      assert.equal(key.kek_id, null);
      assert.equal(key.pkcs11_label, key.kid);
      assert.equal(key.pkcs11_token, 'modelsign-test');
      assert.equal(key.pkcs11_id!.length, 16);
      withTokenSession((module, session) => {
        const objects = objectsWithId(module, session, key.pkcs11_id!);
        const privateKey = objects.find((o) => classOf(module, session, o) === CKO.PRIVATE_KEY);
        assert.ok(privateKey !== undefined, `${key.kid}: a private object`);
        for (const flag of [CKA.LOCAL, CKA.ALWAYS_SENSITIVE, CKA.NEVER_EXTRACTABLE, CKA.SENSITIVE, CKA.PRIVATE]) {
          assert.deepEqual([...module.attribute(session, privateKey, flag)], [1], `${key.kid}: attribute 0x${flag.toString(16)} is true`);
        }
        assert.deepEqual([...module.attribute(session, privateKey, CKA.EXTRACTABLE)], [0]);
        assert.throws(() => module.attribute(session, privateKey, CKA.VALUE), /CKR_ATTRIBUTE_SENSITIVE/);
        assert.equal(module.attribute(session, privateKey, CKA.LABEL).toString(), key.kid);
      });
    }
  });

  it('sign releases of both algorithms that verify online and offline', async () => {
    const admin = await t.adminToken();
    await t.publisherToken('acme', ['acme', 'acme-ec']);
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(admin), payload: { signingAlgorithms: { 'acme-ec': 'ecdsa-p256' } } });
    assert.equal(res.statusCode, 200, res.body);
    const token = await t.publisherToken('acme');
    for (const model of ['acme/m', 'acme-ec/m']) {
      const signed = await signRelease(t, token, '1.0', model);
      assert.equal(signed.status, 201, JSON.stringify(signed.body));
      assert.deepEqual(codes(await onlineVerdict(t, signed.body.bundle)), []);
      assert.deepEqual(offlineVerdict(t, signed.body.bundle).reasons, []);
    }
  });

  it('a revoked key loses its token objects once the revocation commits; rewrap skips token keys', async () => {
    const admin = await t.adminToken();
    const log = t.services.keys.list().find((k) => k.purpose === 'log' && k.status === 'active')!;
    const [row] = (await rows()).filter((r) => r.kid === log.kid);
    const res = await t.app.inject({ method: 'POST', url: `/v1/admin/keys/${log.kid}/revoke`, headers: bearer(admin), payload: { compromisedAt: new Date().toISOString(), reason: 'test' } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(withTokenSession((module, session) => objectsWithId(module, session, row!.pkcs11_id!)), []);
    const after = (await rows()).find((r) => r.kid === log.kid)!;
    assert.equal(after.status, 'revoked');
    assert.ok(after.destroyed_at instanceof Date);
    const [event] = await t.database.db.query<{ details: { found: boolean } }>(`SELECT "details" FROM "audit_events" WHERE "action" = 'key.destroy' AND "target" = $1`, [`key:${log.kid}`]);
    assert.equal(event?.details.found, true);
    // The replacement log key is in the token too and signs checkpoints.
    const replacement = (await rows()).find((r) => r.purpose === 'log' && r.status === 'active')!;
    assert.notEqual(replacement.pkcs11_id, null);
    assert.deepEqual(await t.services.keys.rewrap(testKek(), 'test'), { keys: 0, skipped: 5 });
  });
});

describe('a retired token key', { skip }, () => {
  it('keeps its objects for an hour after retirement (instances still signing with it finish), then loses them', async () => {
    const clock = new MutableClock();
    const t = await createTestApp({ keyBackend: 'pkcs11', clock });
    try {
      const res = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(await t.adminToken()), payload: { purpose: 'release' } });
      assert.equal(res.statusCode, 200, res.body);
      const retired = res.json().previous.kid as string;
      const [row] = await t.database.db.query<{ pkcs11_id: Uint8Array }>('SELECT "pkcs11_id" FROM "keys" WHERE "kid" = $1', [retired]);
      const objects = () => withTokenSession((module, session) => objectsWithId(module, session, row!.pkcs11_id));
      assert.equal(objects().length, 2, 'private and public object');
      clock.advance(RETIRED_OBJECT_GRACE_MS - 60_000);
      assert.equal(await t.services.keys.destroyRetired(), 0);
      assert.equal(objects().length, 2);
      clock.advance(120_000);
      assert.equal(await t.services.keys.destroyRetired(), 1);
      assert.deepEqual(objects(), []);
      assert.equal(await t.services.keys.destroyRetired(), 0, 'recorded as destroyed: not looked for again');
      // Verification of what it signed needs only its public key.
      assert.equal(t.services.keys.get(retired)!.status, 'retired');
    } finally {
      await t.close();
    }
  });
});

describe('ECDSA signatures from the token', { skip }, () => {
  it('are low-S DER whatever S the token returned', async () => {
    const raw: Buffer[] = [];
    const capture = (module: Pkcs11Module): Pkcs11Module => ({ ...module, sign: async (...args) => {
      const signature = await module.sign(...args);
      raw.push(signature);
      return signature;
    } });
    const t = await createTestApp({ keyBackend: 'pkcs11', wrapModule: capture });
    try {
      const signer = t.services.keys.signer('release', 'ECDSA P-256');
      const n = p256.Point.CURVE().n;
      let highS = 0;
      for (let i = 0; i < 64; i++) {
        raw.length = 0;
        const der = await signer.sign(new Uint8Array([i]));
        assert.equal(raw.length, 1);
        const fromToken = p256.Signature.fromBytes(raw[0]!, 'compact');
        const published = p256.Signature.fromBytes(der, 'der');
        assert.equal(published.r, fromToken.r);
        assert.ok(!published.hasHighS(), 'published low-S');
        if (fromToken.hasHighS()) {
          highS++;
          assert.equal(published.s, n - fromToken.s);
        } else {
          assert.equal(published.s, fromToken.s);
        }
      }
      // 64 signatures with a fair coin each: all low-S from the token happens once in 2^64.
      assert.ok(highS > 0, 'the token returned some high-S signatures');
    } finally {
      await t.close();
    }
  });
});

describe('a token object that is not the key of its row', { skip }, () => {
  it('is refused at load with one log line: its slot cannot sign (503), readiness says keys missing, verification goes on', async () => {
    const database = await createTestDatabase();
    const kek = testKek();
    const first = await createTestApp({ database, kek, keyBackend: 'pkcs11' });
    const token = await first.publisherToken('acme');
    const signed = await signRelease(first, token, '1.0');
    assert.equal(signed.status, 201);
    await first.close();
    // Swap the objects of the active Ed25519 release key and the log key between their rows
    // (one object per row is enforced by a unique index, hence the placeholder).
    const [release, log] = await Promise.all(
      [`"purpose" = 'release' AND "algorithm" = 'Ed25519' AND "status" = 'active'`, `"purpose" = 'log'`].map(
        async (where) => (await database.db.query<{ kid: string; pkcs11_id: Uint8Array }>(`SELECT "kid", "pkcs11_id" FROM "keys" WHERE ${where}`))[0]!,
      ),
    );
    await database.db.query(`UPDATE "keys" SET "pkcs11_id" = '\\x00' WHERE "kid" = $1`, [log!.kid]);
    await database.db.query(`UPDATE "keys" SET "pkcs11_id" = $2 WHERE "kid" = $1`, [release!.kid, Buffer.from(log!.pkcs11_id)]);
    await database.db.query(`UPDATE "keys" SET "pkcs11_id" = $2 WHERE "kid" = $1`, [log!.kid, Buffer.from(release!.pkcs11_id)]);
    const second = await createTestApp({ database, kek, keyBackend: 'pkcs11' });
    try {
      const lines = second.logs.filter((l) => l.includes('is not the one stored for it'));
      assert.equal(lines.length, 2, 'one line per key whose object is not its own (the release and the log key)');
      const refused = await signRelease(second, await second.publisherToken('acme'), '2.0');
      assert.deepEqual([refused.status, refused.body.code], [503, 'key_unavailable']);
      const ready = await second.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual([ready.json().signing, ready.json().checks.keys], [false, 'missing']);
      assert.deepEqual(codes(await onlineVerdict(second, signed.body.bundle)), []);
      assert.equal(second.logs.filter((l) => l.includes('is not the one stored for it')).length, 2, 'still one line per key after requests');
    } finally {
      await second.close();
      await database.drop();
    }
  });
});
