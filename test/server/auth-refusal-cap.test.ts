// The per-address cap on refused authentications: garbage tokens, each different, share one
// budget per address (an IPv6 /64), past which the answer is 429 with Retry-After and nothing
// more is written to the audit trail; a token that verifies is never blocked by it; one log
// line per address and minute.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';

const CAP = 5;
const garbage = () => `${randomBytes(12).toString('base64url')}.${randomBytes(24).toString('base64url')}.${randomBytes(32).toString('base64url')}`;

describe('refused-authentication cap', () => {
  let t: TestApp;
  let publisher: string;
  before(async () => {
    t = await createTestApp({ authRefusalsPerMinute: CAP });
    publisher = await t.publisherToken('acme');
  });
  after(() => t.close());

  const sign = (token: string, remoteAddress: string, version: string) =>
    t.app.inject({ method: 'POST', url: '/v1/signatures', remoteAddress, headers: bearer(token), payload: { model: 'acme/m', version, files: [{ path: 'w.bin', sha256: sha('a'), size: 1 }] } });
  const recorded = async (ip: string) =>
    (await t.database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "audit_events" WHERE "action" = 'auth.refused' AND "details"->>'ip' = $1`, [ip]))[0]!.n;

  it(`answers 401 to the first ${CAP} garbage tokens from an address, then 429 with Retry-After; a valid token still signs`, async () => {
    const ip = '203.0.113.7';
    for (let i = 0; i < CAP; i++) {
      const res = await sign(garbage(), ip, `g${i}`);
      assert.equal(res.statusCode, 401, res.body);
    }
    const capped = await sign(garbage(), ip, 'g-capped');
    assert.equal(capped.statusCode, 429);
    assert.equal(capped.json().code, 'rate_limited');
    assert.match(capped.json().detail, /refused authentications/);
    assert.ok(Number(capped.headers['retry-after']) >= 1);
    const valid = await sign(publisher, ip, 'valid-1');
    assert.equal(valid.statusCode, 201, valid.body);
    assert.equal((await sign(garbage(), ip, 'g-after')).statusCode, 429);
    assert.equal((await sign(publisher, ip, 'valid-2')).statusCode, 201);
    // Only the refusals under the cap are in the audit trail.
    assert.equal(await recorded(ip), CAP);
    // Another address has its own budget.
    assert.equal((await sign(garbage(), '198.51.100.1', 'other')).statusCode, 401);
  });

  it('counts an IPv6 /64 as one address, and another /64 apart', async () => {
    for (let i = 0; i < CAP; i++) assert.equal((await sign(garbage(), `2001:db8:1:2::${i + 1}`, `v6-${i}`)).statusCode, 401);
    assert.equal((await sign(garbage(), '2001:db8:1:2:ffff:ffff:ffff:ffff', 'v6-capped')).statusCode, 429);
    assert.equal((await sign(garbage(), '2001:db8:1:3::1', 'v6-other')).statusCode, 401);
    assert.equal((await sign(publisher, '2001:db8:1:2::99', 'v6-valid')).statusCode, 201);
  });

  it('does not count a valid token used on a route its role may not use', async () => {
    const ip = '192.0.2.55';
    for (let i = 0; i < CAP + 3; i++) {
      const res = await t.app.inject({ url: '/v1/admin/publishers', remoteAddress: ip, headers: bearer(publisher) });
      assert.equal(res.statusCode, 403);
    }
    assert.equal((await sign(garbage(), ip, 'after-403')).statusCode, 401);
  });

  it('logs one line per capped address, not one per refusal', () => {
    const lines = t.logs.filter((l) => l.includes('refused authentications a minute from this address'));
    assert.deepEqual(lines.map((l) => JSON.parse(l).address).sort(), ['2001:db8:1:2::/64', '203.0.113.7']);
  });
});
