// The service on a clock five years away from the wall clock, behind and ahead: every time
// decision (token expiry, key lifecycle, log times, revocation by logged time, rate-limit windows,
// the checkpoint-age gauge) follows the injected clock, so nothing depends on today's date.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearer, createTestApp, MutableClock, wholeSecondFromNow } from '../support/app.ts';
import { codes, offlineVerdict, onlineVerdict, signRelease } from '../support/keys.ts';

const YEAR = 365.25 * 86_400_000;
const HOUR = 3_600_000;

for (const [label, offset] of [
  ['5 years behind', -5 * YEAR],
  ['5 years ahead of', 5 * YEAR],
] as const) {
  describe(`a service whose clock is ${label} the wall clock`, () => {
    it('signs, verifies, rotates and revokes on its own clock, and expires tokens by it', async () => {
      const start = wholeSecondFromNow(offset);
      const clock = new MutableClock(start);
      const t = await createTestApp({ clock });
      try {
        const admin = await t.adminToken();
        let pub = await t.publisherToken('acme');

        const early = await signRelease(t, pub, '1.0');
        assert.equal(early.status, 201, JSON.stringify(early.body));
        clock.advance(10_000);
        const late = await signRelease(t, pub, '2.0');
        assert.equal(late.status, 201, JSON.stringify(late.body));
        for (const verdict of [await onlineVerdict(t, early.body.bundle), offlineVerdict(t, early.body.bundle)]) {
          assert.deepEqual(verdict.reasons, []);
        }
        const logged = await onlineVerdict(t, late.body.bundle);
        assert.deepEqual(logged.reasons, []);
        assert.equal(logged.integratedTime, start.getTime() / 1000 + 10, 'logged at the service\'s time, not the wall clock\'s');

        const rotated = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'release' } });
        assert.equal(rotated.statusCode, 200, rotated.body);
        const { previous, active } = rotated.json();
        assert.equal(previous.kid, early.body.kid);
        assert.equal(Date.parse(active.activatedAt), clock.now().getTime());
        const after = await signRelease(t, pub, '3.0');
        assert.equal(after.body.kid, active.kid);

        const compromisedAt = new Date(start.getTime() + 5_000).toISOString();
        const revoked = await t.app.inject({ method: 'POST', url: `/v1/admin/keys/${previous.kid}/revoke`, headers: bearer(admin), payload: { compromisedAt, reason: 'skew test' } });
        assert.equal(revoked.statusCode, 200, revoked.body);
        assert.equal(revoked.json().revoked.status, 'revoked');
        assert.deepEqual((await onlineVerdict(t, early.body.bundle)).reasons, [], 'logged before compromisedAt: still valid');
        for (const verdict of [await onlineVerdict(t, late.body.bundle), offlineVerdict(t, late.body.bundle)]) {
          assert.deepEqual(codes(verdict), ['key_revoked']);
          assert.match(verdict.reasons[0]!.message, new RegExp(`compromised at ${compromisedAt}; this signature was logged at ${new Date(start.getTime() + 10_000).toISOString()}`));
        }
        assert.deepEqual((await onlineVerdict(t, after.body.bundle)).reasons, [], 'signed by the new key: valid');

        // Tokens live an hour of the service's clock, whatever the wall clock says.
        clock.advance(HOUR + 1_000);
        const expired = await signRelease(t, pub, '4.0');
        assert.deepEqual([expired.status, expired.body.code], [401, 'token_expired']);
        pub = await t.publisherToken('acme');
        assert.equal((await signRelease(t, pub, '4.0')).status, 201);
      } finally {
        await t.close();
      }
    });

    it('ends a rate-limit window when its clock moves a minute, and reports checkpoint age by it', async () => {
      const clock = new MutableClock(wholeSecondFromNow(offset));
      const t = await createTestApp({ clock, rateLimit: { publicPerMinute: 2, tokenPerMinute: 0 } });
      try {
        const statuses = async () => {
          const out: number[] = [];
          for (let i = 0; i < 3; i++) out.push((await t.app.inject({ url: '/v1/log/checkpoint' })).statusCode);
          return out;
        };
        assert.deepEqual(await statuses(), [200, 200, 429]);
        clock.advance(59_000);
        assert.equal((await t.app.inject({ url: '/v1/log/checkpoint' })).statusCode, 429, 'the window has a second left');
        clock.advance(1_000);
        assert.deepEqual(await statuses(), [200, 200, 429], 'a new window');

        await t.services.checkpointer.checkpointNow();
        clock.advance(30_000);
        const metrics = (await t.app.inject({ url: '/metrics' })).body;
        const age = Number(/^modelsign_checkpoint_age_seconds (\S+)$/m.exec(metrics)?.[1]);
        assert.ok(age >= 30 && age < 120, `checkpoint age ${age} s on the service's clock`);
      } finally {
        await t.close();
      }
    });
  });
}
