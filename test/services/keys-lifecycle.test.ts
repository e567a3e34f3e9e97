// Rotation, revocation by logged time, scheduled rotation
// with an injected clock, following the rotation chain offline from the first key, and a restart.
// Key backends: kek, pkcs11
import { logIdOf } from '../../src/core/tlog/log-id.ts';
import { keySet } from '../../src/core/keys/key-set.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KeyChainError, verifyKeyChain } from '../../src/core/keys/key-chain.ts';
import { parseSpkiPem } from '../../src/core/crypto/public-key.ts';
import { verifyBundle } from '../../src/core/verify-bundle.ts';
import { bearer, createTestApp, MutableClock, testKek, wholeSecondFromNow, type TestApp } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { clone, flipBase64 } from '../support/bundles.ts';
import { codes, offlineVerdict, onlineVerdict, signRelease } from '../support/keys.ts';

const DAY = 86_400_000;

describe('rotation', () => {
  let t: TestApp;
  let admin: string;
  let pub: string;
  before(async () => {
    t = await createTestApp();
    admin = await t.adminToken();
    pub = await t.publisherToken('acme');
  });
  after(() => t.close());

  it('signs with the new key afterwards; bundles signed before still verify online and offline; /v1/keys shows both', async () => {
    const before = await signRelease(t, pub, '1.0');
    assert.equal(before.status, 201);
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'release' } });
    assert.equal(res.statusCode, 200, res.body);
    const { previous, active } = res.json();
    assert.equal(previous.kid, before.body.kid);
    assert.deepEqual([previous.status, active.status], ['retired', 'active']);
    assert.ok(previous.retiredAt && active.activatedAt);

    const after = await signRelease(t, pub, '2.0');
    assert.equal(after.body.kid, active.kid);
    assert.notEqual(after.body.kid, before.body.kid);

    const online = await onlineVerdict(t, before.body.bundle);
    assert.deepEqual(online.reasons, []);
    assert.equal(online.keyStatus, 'retired');
    assert.deepEqual(offlineVerdict(t, before.body.bundle).reasons, []);
    assert.deepEqual(offlineVerdict(t, after.body.bundle).reasons, []);

    const keys = (await t.app.inject({ url: '/v1/keys' })).json().keys as { kid: string; status: string; purpose: string; alg: string; activatedAt: string; retiredAt: string | null }[];
    const old = keys.find((k) => k.kid === previous.kid)!;
    const now = keys.find((k) => k.kid === active.kid)!;
    assert.deepEqual([old.status, now.status], ['retired', 'active']);
    assert.ok(old.retiredAt && now.activatedAt && Date.parse(now.activatedAt) >= Date.parse(old.activatedAt));
    assert.equal(keys.filter((k) => k.purpose === 'release' && k.alg === 'EdDSA' && k.status === 'active').length, 1);
  });
});

describe('token key rotation', () => {
  it('keeps unexpired tokens working after a rotation, and refuses them once their key is revoked', async () => {
    const t = await createTestApp();
    try {
      const admin = await t.adminToken();
      const oldPub = await t.publisherToken('acme');
      const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid as string;
      const rotated = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'token' } });
      assert.equal(rotated.statusCode, 200, rotated.body);
      assert.equal(rotated.json().previous.kid, kidOf(oldPub));
      const newPub = await t.publisherToken('acme');
      assert.equal(kidOf(newPub), rotated.json().active.kid);
      assert.equal((await signRelease(t, oldPub, '1.0')).status, 201, 'a token of the retired key works until it expires');
      assert.equal((await signRelease(t, newPub, '2.0')).status, 201);
      const revoked = await t.app.inject({ method: 'POST', url: `/v1/admin/keys/${kidOf(oldPub)}/revoke`, headers: bearer(await t.adminToken()), payload: { compromisedAt: new Date().toISOString(), reason: 'x' } });
      assert.equal(revoked.statusCode, 200, revoked.body);
      const refused = await signRelease(t, oldPub, '3.0');
      assert.deepEqual([refused.status, refused.body.code], [401, 'token_invalid']);
      assert.equal((await signRelease(t, newPub, '4.0')).status, 201);
    } finally {
      await t.close();
    }
  });
});

describe('revocation', () => {
  it('keeps the signature logged before compromisedAt, refuses the later one with the reason, and keeps signing', async () => {
    const start = wholeSecondFromNow();
    const at = (ms: number) => new Date(start.getTime() + ms).toISOString();
    const clock = new MutableClock(start);
    const t = await createTestApp({ clock });
    try {
      const admin = await t.adminToken();
      const pub = await t.publisherToken('acme');
      const early = await signRelease(t, pub, '1.0');
      clock.advance(10_000);
      const late = await signRelease(t, pub, '2.0');
      const kid = early.body.kid;
      assert.equal(late.body.kid, kid);
      const res = await t.app.inject({
        method: 'POST',
        url: `/v1/admin/keys/${kid}/revoke`,
        headers: bearer(admin),
        payload: { compromisedAt: at(5_000), reason: 'laptop stolen' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const { revoked, replacement } = res.json();
      assert.equal(revoked.status, 'revoked');
      assert.equal(revoked.compromisedAt, at(5_000));
      assert.ok(replacement && replacement.status === 'active' && replacement.kid !== kid);

      for (const verdict of [await onlineVerdict(t, early.body.bundle), offlineVerdict(t, early.body.bundle)]) {
        assert.deepEqual(verdict.reasons, []);
        assert.equal(verdict.keyStatus, 'revoked');
      }
      for (const verdict of [await onlineVerdict(t, late.body.bundle), offlineVerdict(t, late.body.bundle)]) {
        assert.equal(verdict.valid, false);
        assert.deepEqual(codes(verdict), ['key_revoked']);
        assert.ok(verdict.reasons[0]!.message.includes(`compromised at ${at(5_000)}; this signature was logged at ${at(10_000)}`), verdict.reasons[0]!.message);
      }
      const next = await signRelease(t, pub, '3.0');
      assert.equal(next.status, 201);
      assert.equal(next.body.kid, replacement.kid);
      assert.deepEqual((await onlineVerdict(t, next.body.bundle)).reasons, []);
    } finally {
      await t.close();
    }
  });
});

describe('log key revocation', () => {
  it('signs the tree again with the new log key, so bundles fetched afterwards verify without the revoked key', async () => {
    const t = await createTestApp();
    try {
      const admin = await t.adminToken();
      const pub = await t.publisherToken('acme');
      const saved = await signRelease(t, pub, '1.0');
      const oldLog = t.services.keys.list().find((k) => k.purpose === 'log' && k.status === 'active')!;
      assert.equal((await onlineVerdict(t, saved.body.bundle)).valid, true);
      const res = await t.app.inject({ method: 'POST', url: `/v1/admin/keys/${oldLog.kid}/revoke`, headers: bearer(admin), payload: { compromisedAt: new Date().toISOString(), reason: 'log key leaked' } });
      assert.equal(res.statusCode, 200, res.body);
      const newLog = res.json().replacement.kid as string;
      const checkpoint = (await t.services.checkpointer.checkpointNow())!;
      assert.equal(checkpoint.kid, newLog);
      assert.equal(checkpoint.size, saved.body.logIndex + 1, 'the same tree, signed again');

      // The bundle saved before depends on the revoked log key...
      assert.deepEqual(codes(offlineVerdict(t, saved.body.bundle)), ['log_key_unknown']);
      // ...the one fetched now does not, and verifies offline and online; new signatures too.
      const fetched = (await t.app.inject({ url: '/v1/models/acme/m/versions/1.0/bundle' })).json();
      assert.deepEqual(new Uint8Array(Buffer.from(fetched.verificationMaterial.tlogEntries[0].logId.keyId, 'base64')), logIdOf(t.services.log.origin, t.services.keys.get(newLog)!));
      assert.deepEqual(offlineVerdict(t, fetched).reasons, []);
      assert.deepEqual((await onlineVerdict(t, fetched)).reasons, []);
      const next = await signRelease(t, pub, '2.0');
      assert.deepEqual(offlineVerdict(t, next.body.bundle).reasons, []);
    } finally {
      await t.close();
    }
  });
});

describe('scheduled rotation', () => {
  it('publishes the next key as pending ahead of time, activates it on time, and no request fails across the switch', async () => {
    const start = wholeSecondFromNow();
    const clock = new MutableClock(start);
    const t = await createTestApp({ clock, rotation: { every: { release: 90 * DAY }, prepublishMs: 7 * DAY } });
    try {
      // Tokens live an hour of the injected clock: take a fresh one after each jump.
      let pub = await t.publisherToken('acme');
      const listRelease = async () => ((await t.app.inject({ url: '/v1/keys' })).json().keys as { kid: string; purpose: string; alg: string; status: string; activatesAt: string | null }[]).filter((k) => k.purpose === 'release' && k.alg === 'EdDSA');
      const first = (await listRelease()).find((k) => k.status === 'active')!;

      clock.set(new Date(start.getTime() + 83 * DAY - 1000));
      await t.services.keys.runSchedule();
      assert.deepEqual((await listRelease()).map((k) => k.status), ['active'], 'nothing is published before the prepublish window');

      clock.set(new Date(start.getTime() + 83 * DAY + 1000));
      await t.services.keys.runSchedule();
      const pending = (await listRelease()).find((k) => k.status === 'pending');
      assert.ok(pending, 'the next key is published as pending');
      assert.equal(pending.activatesAt, new Date(start.getTime() + 90 * DAY).toISOString());
      pub = await t.publisherToken('acme');
      assert.equal((await signRelease(t, pub, '1.0')).body.kid, first.kid, 'a pending key does not sign');
      await t.services.keys.runSchedule();
      assert.equal((await listRelease()).length, 2, 'running the schedule again changes nothing');

      clock.set(new Date(start.getTime() + 90 * DAY - 1000));
      await t.services.keys.runSchedule();
      assert.equal((await listRelease()).find((k) => k.status === 'active')!.kid, first.kid);

      // The switch, under signing load.
      pub = await t.publisherToken('acme');
      const load = Array.from({ length: 60 }, (_, i) => signRelease(t, pub, `2.${i}`));
      clock.set(new Date(start.getTime() + 90 * DAY));
      const [, ...results] = await Promise.all([t.services.keys.runSchedule(), ...load, ...Array.from({ length: 40 }, (_, i) => signRelease(t, pub, `3.${i}`))]);
      assert.ok(results.every((r) => r.status === 201), JSON.stringify(results.find((r) => r.status !== 201)?.body));
      const keys = await listRelease();
      assert.equal(keys.find((k) => k.kid === pending.kid)!.status, 'active');
      assert.equal(keys.find((k) => k.kid === first.kid)!.status, 'retired');
      const kids = new Set(results.map((r) => r.body.kid));
      assert.ok(kids.has(first.kid) || kids.has(pending.kid));
      for (const r of results) assert.deepEqual((await onlineVerdict(t, r.body.bundle)).reasons, [], r.body.kid);
      assert.equal((await signRelease(t, pub, '4.0')).body.kid, pending.kid);
    } finally {
      await t.close();
    }
  });
});

describe('rotation chain', () => {
  it('takes a client that pinned the first key to a bundle signed three rotations later, and refuses an altered link or a revoked key in it', async () => {
    const t = await createTestApp();
    try {
      const admin = await t.adminToken();
      const pub = await t.publisherToken('acme');
      const first = t.services.keys.list().find((k) => k.purpose === 'release' && k.algorithm === 'Ed25519' && k.status === 'active')!;
      const pem = (await t.app.inject({ url: `/v1/keys/${first.kid}` })).json().pem as string;
      const pinned = parseSpkiPem(pem)!;
      const kids = [first.kid];
      for (let i = 0; i < 3; i++) {
        const res = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'release' } });
        kids.push(res.json().active.kid);
      }
      const signed = await signRelease(t, pub, '1.0');
      assert.equal(signed.body.kid, kids[3]);
      const chain = (await t.app.inject({ url: '/v1/keys/chain' })).json();
      assert.equal(chain.links.filter((l: { kid: string }) => kids.includes(l.kid)).length, 3);

      const trusted = verifyKeyChain(chain, pinned);
      assert.deepEqual(trusted.filter((k) => k.purpose === 'release' && k.algorithm === 'Ed25519').map((k) => k.kid), kids);
      assert.deepEqual(verifyBundle(signed.body.bundle, keySet(trusted)).reasons, []);

      // One link altered: its payload, or its signature.
      for (const part of ['payload', 'sig'] as const) {
        const altered = clone(chain);
        const link = altered.links.find((l: { kid: string }) => l.kid === kids[2]);
        if (part === 'payload') link.envelope.payload = flipBase64(link.envelope.payload, 60);
        else link.envelope.signatures[0].sig = flipBase64(link.envelope.signatures[0].sig, 10);
        assert.throws(() => verifyKeyChain(altered, pinned), (e: unknown) => e instanceof KeyChainError && e.code === 'chain_link_invalid', part);
      }
      // A link that introduces another key than it says.
      const swapped = clone(chain);
      const links = swapped.links.filter((l: { purpose: string }) => l.purpose === 'release');
      [links[0].envelope, links[1].envelope] = [links[1].envelope, links[0].envelope];
      assert.throws(() => verifyKeyChain(swapped, pinned), KeyChainError);

      // A key in the middle revoked: nothing it introduced is trusted any more.
      const res = await t.app.inject({ method: 'POST', url: `/v1/admin/keys/${kids[1]}/revoke`, headers: bearer(admin), payload: { compromisedAt: new Date().toISOString(), reason: 'leaked' } });
      assert.equal(res.statusCode, 200, res.body);
      const after = (await t.app.inject({ url: '/v1/keys/chain' })).json();
      const now = verifyKeyChain(after, pinned);
      assert.deepEqual(now.filter((k) => k.purpose === 'release' && k.algorithm === 'Ed25519').map((k) => k.kid), kids.slice(0, 2));
      const verdict = verifyBundle(signed.body.bundle, keySet(now));
      assert.deepEqual(codes(verdict), ['key_unknown']);
      // A pinned key that is not in the chain at all.
      assert.throws(() => verifyKeyChain(after, t.services.keys.list().find((k) => k.purpose === 'log')!), (e: unknown) => e instanceof KeyChainError && e.code === 'chain_pin_unknown');
    } finally {
      await t.close();
    }
  });
});

describe('restart', () => {
  it('a restarted instance loads the keys it made, signs with them, and verifies what it signed before', async () => {
    const database = await createTestDatabase();
    const kek = testKek();
    try {
      const first = await createTestApp({ database, kek });
      const pub = await first.publisherToken('acme');
      const before = await signRelease(first, pub, '1.0');
      assert.equal(before.status, 201);
      const kids = first.services.keys.list().map((k) => k.kid);
      await first.close();

      const second = await createTestApp({ database, kek });
      try {
        assert.deepEqual(second.services.keys.list().map((k) => k.kid), kids, 'no key was made again');
        const after = await signRelease(second, await second.publisherToken('acme'), '2.0');
        assert.equal(after.status, 201);
        assert.equal(after.body.kid, before.body.kid, 'the same release key signs');
        for (const signed of [before, after]) {
          assert.deepEqual(codes(await onlineVerdict(second, signed.body.bundle)), []);
          assert.deepEqual(offlineVerdict(second, signed.body.bundle).reasons, []);
        }
        const rotated = await second.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(await second.adminToken()), payload: { purpose: 'log' } });
        assert.equal(rotated.statusCode, 200, rotated.body);
      } finally {
        await second.close();
      }
    } finally {
      await database.drop();
    }
  });
});
