// Moving a deployment from KEK-wrapped keys to a PKCS#11 token: restarted with
// MODELSIGN_KEY_BACKEND=pkcs11 (and the KEK still set), the old keys keep signing and say they
// should be rotated; rotations make their successors in the token, introduced by the rotation
// chain; bundles from before and after verify online and offline; `admin rewrap` then rewraps
// the retired KEK keys and reports the token keys it skipped.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { verifyKeyChain } from '../../src/core/keys/key-chain.ts';
import { bearer, createTestApp, testKek } from '../support/app.ts';
import { createTestDatabase, TEST_DB } from '../support/db.ts';
import { codes, offlineVerdict, onlineVerdict, signRelease } from '../support/keys.ts';
import { runCliAsync } from '../support/process.ts';
import { SOFTHSM_MODULE, softHsm, softHsmSkip, TOKEN_LABEL } from '../support/softhsm.ts';

const skip = softHsmSkip();
const SLOTS = [
  { purpose: 'release', algorithm: 'ed25519' },
  { purpose: 'release', algorithm: 'ecdsa-p256' },
  { purpose: 'log' },
  { purpose: 'token' },
] as const;

describe('moving a populated deployment from kek to pkcs11', { skip }, () => {
  it('old bundles verify, new ones are signed in the token, the chain links them, rewrap counts both', async () => {
    const database = await createTestDatabase();
    const kek = testKek();
    const rows = () => database.db.query<{ kid: string; purpose: string; algorithm: string; status: string; in_token: boolean }>(`SELECT "kid", "purpose", "algorithm", "status", "pkcs11_id" IS NOT NULL AS in_token FROM "keys" ORDER BY "created_at", "kid"`);
    try {
      // Before: everything KEK-wrapped, releases of both algorithms signed.
      const old = await createTestApp({ database, kek, keyBackend: 'kek' });
      await old.publisherToken('acme', ['acme', 'acme-ec']);
      const patched = await old.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(await old.adminToken()), payload: { signingAlgorithms: { 'acme-ec': 'ecdsa-p256' } } });
      assert.equal(patched.statusCode, 200);
      let token = await old.publisherToken('acme');
      const before = [await signRelease(old, token, '1.0', 'acme/m'), await signRelease(old, token, '1.0', 'acme-ec/m')];
      assert.deepEqual(before.map((s) => s.status), [201, 201]);
      const pinned = old.services.keys.list().filter((k) => k.purpose === 'release');
      await old.close();
      assert.ok((await rows()).every((r) => !r.in_token));

      // Restarted on the token: the active keys are still the KEK ones, reported once each.
      const moved = await createTestApp({ database, kek, keyBackend: 'pkcs11' });
      try {
        const warnings = moved.logs.filter((l) => l.includes('is KEK-wrapped but new keys of its slot are made in the PKCS#11 token'));
        assert.equal(warnings.length, 4, moved.logs.join('\n'));
        assert.match(warnings[1]!, /modelsign admin keys rotate release --algorithm ecdsa-p256/);
        token = await moved.publisherToken('acme');
        assert.equal((await signRelease(moved, token, '1.1', 'acme/m')).status, 201, 'the KEK keys still sign until rotated');

        const admin = await moved.adminToken();
        for (const slot of SLOTS) {
          const res = await moved.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: slot });
          assert.equal(res.statusCode, 200, res.body);
        }
        const keys = await rows();
        assert.deepEqual(keys.filter((k) => k.status === 'active').map((k) => k.in_token), [true, true, true, true], 'every active key is in the token');
        assert.deepEqual(keys.filter((k) => !k.in_token).map((k) => k.status), ['retired', 'retired', 'retired', 'retired']);

        token = await moved.publisherToken('acme');
        const after = [await signRelease(moved, token, '2.0', 'acme/m'), await signRelease(moved, token, '2.0', 'acme-ec/m')];
        assert.deepEqual(after.map((s) => s.status), [201, 201]);
        const active = new Set(keys.filter((k) => k.status === 'active').map((k) => k.kid));
        assert.ok(after.every((s) => active.has(s.body.kid)), 'new releases are signed by token keys');
        for (const signed of [...before, ...after]) {
          assert.deepEqual(codes(await onlineVerdict(moved, signed.body.bundle)), []);
          assert.deepEqual(offlineVerdict(moved, signed.body.bundle).reasons, []);
        }
        // The chain leads from each algorithm's first release key to its token successor (and
        // from the Ed25519 one, which introduced the first ECDSA key, to both).
        const chain = (await moved.app.inject({ url: '/v1/keys/chain' })).json();
        for (const pin of pinned) {
          const trusted = verifyKeyChain(chain, pin).map((k) => k.kid);
          const expected = after.filter((s) => pin.algorithm === 'Ed25519' || moved.services.keys.get(s.body.kid)!.algorithm === pin.algorithm);
          assert.equal(expected.length, pin.algorithm === 'Ed25519' ? 2 : 1);
          assert.ok(expected.every((s) => trusted.includes(s.body.kid)), `from ${pin.algorithm} ${pin.kid}`);
        }
      } finally {
        await moved.close();
      }

      // `admin rewrap` afterwards: the four retired KEK keys rewrapped, the four token keys skipped.
      if (TEST_DB === 'postgres') {
        const hsm = softHsm();
        const next = path.join(hsm.dir, 'next-kek');
        writeFileSync(next, randomBytes(32).toString('base64'), { mode: 0o600 });
        const r = await runCliAsync(['admin', 'rewrap', '--new-kek-file', next, '--json'], {
          DATABASE_URL: database.url!,
          MODELSIGN_KEK: kek.key.toString('base64'),
          MODELSIGN_KEY_BACKEND: 'pkcs11',
          MODELSIGN_PKCS11_URI: `pkcs11:token=${TOKEN_LABEL}`,
          MODELSIGN_PKCS11_MODULE: SOFTHSM_MODULE,
          MODELSIGN_PKCS11_PIN_FILE: hsm.pinFile,
          SOFTHSM2_CONF: process.env.SOFTHSM2_CONF!,
        });
        assert.equal(r.status, 0, r.stderr);
        const report = JSON.parse(r.stdout);
        assert.deepEqual([report.rewrapped, report.skipped], [4, 4]);
      } else {
        // The embedded database of this pass lives in this process: the service call the command makes.
        const again = await createTestApp({ database, kek, keyBackend: 'pkcs11' });
        try {
          assert.deepEqual(await again.services.keys.rewrap(testKek(), 'test'), { keys: 4, skipped: 4 });
        } finally {
          await again.close();
        }
      }
    } finally {
      await database.drop();
    }
  });
});
