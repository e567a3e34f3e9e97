// The routes the admin console needs beyond the CLI's: the token list (never a JWT), search by
// namespace, and the count of signatures a revocation would make invalid.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createTestApp, MutableClock, sha, type TestApp } from '../support/app.ts';

describe('console API additions', () => {
  let t: TestApp;
  let admin: string;
  const clock = new MutableClock();
  before(async () => {
    clock.set(new Date());
    t = await createTestApp({ clock });
    admin = await t.adminToken();
  });
  after(() => t.close());

  const get = async (url: string, token = admin) => {
    const res = await t.app.inject({ method: 'GET', url, headers: bearer(token) });
    return { status: res.statusCode, json: res.json(), headers: res.headers, body: res.body };
  };
  const sign = async (token: string, model: string, version: string, digit: string) => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: { model, version, files: [{ path: 'w.safetensors', sha256: sha(digit), size: 1 }] } });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string; kid: string };
  };

  it('lists tokens newest first with their status, never a JWT, paged', async () => {
    const acme = await t.publisherToken('acme');
    const issued = await t.services.tokens.issueFor({ role: 'auditor', subject: 'carol', ttlMs: 60_000 }, 'test');
    const revoked = await t.services.tokens.issueFor({ role: 'publisher', publisher: 'acme', ttlMs: 60_000 }, 'test');
    await t.app.inject({ method: 'DELETE', url: `/v1/admin/tokens/${revoked.jti}`, headers: bearer(admin) });

    const all = await get('/v1/admin/tokens?limit=100');
    assert.equal(all.status, 200, all.body);
    assert.equal(all.headers['cache-control'], 'no-store');
    // Nothing in the answer is a JWT (three base64url parts) nor any token's text.
    assert.doesNotMatch(all.body, /eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    for (const token of [admin, acme, issued.token, revoked.token]) assert.ok(!all.body.includes(token));
    const byJti = new Map(all.json.items.map((i: { jti: string }) => [i.jti, i]));
    assert.deepEqual(Object.keys(byJti.get(issued.jti) as object).sort(), ['expiresAt', 'issuedAt', 'jti', 'kid', 'namespaces', 'publisher', 'revokedAt', 'role', 'status', 'subject', 'trustedPublishing']);
    assert.equal((byJti.get(issued.jti) as { status: string }).status, 'active');
    assert.equal((byJti.get(revoked.jti) as { status: string; publisher: string }).status, 'revoked');
    assert.equal((byJti.get(revoked.jti) as { publisher: string }).publisher, 'acme');

    const live = await get('/v1/admin/tokens?status=active&limit=100');
    assert.ok(!live.json.items.some((i: { jti: string }) => i.jti === revoked.jti));
    clock.advance(61_000);
    const later = await get('/v1/admin/tokens?limit=100');
    assert.equal(later.json.items.find((i: { jti: string }) => i.jti === issued.jti).status, 'expired');
    assert.ok(!(await get('/v1/admin/tokens?status=active&limit=100')).json.items.some((i: { jti: string }) => i.jti === issued.jti));

    const acmeOnly = await get('/v1/admin/tokens?publisher=acme&limit=100');
    assert.ok(acmeOnly.json.items.length >= 2);
    assert.ok(acmeOnly.json.items.every((i: { publisher: string }) => i.publisher === 'acme'));
    assert.equal((await get('/v1/admin/tokens?publisher=nobody')).json.code, 'publisher_unknown');

    // Paging one at a time visits every token once, in the same order.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/v1/admin/tokens?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(page.status, 200, page.body);
      seen.push(...page.json.items.map((i: { jti: string }) => i.jti));
      cursor = page.json.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, later.json.items.map((i: { jti: string }) => i.jti));
    assert.equal((await get('/v1/admin/tokens?cursor=nonsense')).json.code, 'validation_failed');

    const auditor = (await t.services.tokens.issueFor({ role: 'auditor', subject: 'dave', ttlMs: 3_600_000 }, 'test')).token;
    assert.equal((await get('/v1/admin/tokens', auditor)).status, 200);
    const refused = await get('/v1/admin/tokens', acme);
    assert.equal(refused.status, 403);
    assert.equal(refused.json.code, 'forbidden_role');
  });

  it('finds releases by namespace, taking _ in a namespace literally', async () => {
    const a = await t.publisherToken('a_b');
    const b = await t.publisherToken('axb');
    const one = await sign(a, 'a_b/m', '1', '1');
    const two = await sign(a, 'a_b/n', '1', '2');
    await sign(b, 'axb/m', '1', '3');
    const found = await t.app.inject({ method: 'GET', url: '/v1/signatures?namespace=a_b' });
    assert.equal(found.statusCode, 200, found.body);
    assert.deepEqual(found.json().items.map((i: { id: string }) => i.id), [two.id, one.id]);
    const both = await t.app.inject({ method: 'GET', url: '/v1/signatures?namespace=a_b&model=axb/m' });
    assert.deepEqual(both.json().items, []);
    const bad = await t.app.inject({ method: 'GET', url: '/v1/signatures?namespace=A%25' });
    assert.equal(bad.statusCode, 400);
  });

  it('counts the signatures a revocation as of a time would make invalid', async () => {
    const token = await t.publisherToken('counted');
    clock.advance(30_000);
    const first = await sign(token, 'counted/m', '1', '4');
    clock.advance(60_000);
    const cut = clock.now();
    clock.advance(1_000);
    await sign(token, 'counted/m', '2', '5');
    await sign(token, 'counted/m', '3', '6');
    const kid = first.kid;
    const before = (await get(`/v1/admin/keys/${kid}/signature-count`)).json;
    assert.equal(before.code, 'validation_failed');
    const counted = await get(`/v1/admin/keys/${kid}/signature-count?compromisedAt=${cut.toISOString()}`);
    assert.equal(counted.status, 200, counted.body);
    assert.equal(counted.json.invalidated, 2);
    assert.equal(counted.json.atRisk, 2);
    assert.ok(counted.json.total >= 3);
    const earlier = await get(`/v1/admin/keys/${kid}/signature-count?compromisedAt=${new Date(cut.getTime() - 61_000).toISOString()}`);
    assert.equal(earlier.json.invalidated, 3);
    // A signature made two seconds before the time is at risk, not certainly invalid.
    const close = await get(`/v1/admin/keys/${kid}/signature-count?compromisedAt=${new Date(cut.getTime() - 58_000).toISOString()}`);
    assert.equal(close.json.invalidated, 2);
    assert.equal(close.json.atRisk, 3);
    const unknown = await get(`/v1/admin/keys/${'0'.repeat(64)}/signature-count?compromisedAt=${cut.toISOString()}`);
    assert.equal(unknown.status, 404);
    const publisher = await get(`/v1/admin/keys/${kid}/signature-count?compromisedAt=${cut.toISOString()}`, token);
    assert.equal(publisher.status, 403);
  });

  it('reports the audit chain check, and names the first event changed behind its back', async () => {
    const intact = await get('/v1/admin/audit/chain');
    assert.equal(intact.status, 200, intact.body);
    assert.equal(intact.json.ok, true);
    assert.ok(intact.json.checked >= 5, 'the tokens, publishers and key changes above are events');
    assert.equal(intact.json.firstBad, null);
    await t.database.db.query('ALTER TABLE "audit_events" DISABLE TRIGGER "audit_events_append_only"');
    try {
      await t.database.db.query(`UPDATE "audit_events" SET "actor" = 'someone-else' WHERE "seq" = 2`);
    } finally {
      await t.database.db.query('ALTER TABLE "audit_events" ENABLE TRIGGER "audit_events_append_only"');
    }
    const broken = await get('/v1/admin/audit/chain');
    assert.equal(broken.json.ok, false);
    assert.equal(broken.json.firstBad.seq, 2);
    assert.match(broken.json.firstBad.problem, /changed after it was sealed/);
    const publisher = await get('/v1/admin/audit/chain', await t.publisherToken('acme'));
    assert.equal(publisher.status, 403);
  });
});
