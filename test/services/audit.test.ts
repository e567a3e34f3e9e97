// After a scripted session every event is in the audit trail in
// order, hash-chained; editing, deleting or reordering one row breaks the chain at that event.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyAuditChain } from '../../src/services/audit-chain.ts';
import { bearer, createTestApp, type TestApp } from '../support/app.ts';
import { signRelease } from '../support/keys.ts';

describe('audit trail', () => {
  let t: TestApp;
  let admin: string;
  before(async () => {
    t = await createTestApp();
    admin = await t.adminToken();
  });
  after(() => t.close());

  const tamper = async (sql: string, params: unknown[] = []) => {
    await t.database.db.query('ALTER TABLE "audit_events" DISABLE TRIGGER "audit_events_append_only"');
    try {
      await t.database.db.query(sql, params);
    } finally {
      await t.database.db.query('ALTER TABLE "audit_events" ENABLE TRIGGER "audit_events_append_only"');
    }
  };

  it('records a scripted session of admin and publisher actions, in order, hash-chained', async () => {
    const h = bearer(admin);
    const created = await t.app.inject({ method: 'POST', url: '/v1/admin/publishers', headers: h, payload: { name: 'acme', namespaces: ['acme'] } });
    assert.equal(created.statusCode, 201);
    const issued = await t.app.inject({ method: 'POST', url: '/v1/admin/tokens', headers: h, payload: { role: 'publisher', publisher: 'acme', ttl: '1h' } });
    const pub = issued.json().token as string;
    assert.equal((await signRelease(t, pub, '1.0')).status, 201);
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: h, payload: { purpose: 'release' } })).statusCode, 200);
    assert.equal((await signRelease(t, pub, '2.0')).status, 201);
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/v1/admin/tokens/${issued.json().jti}`, headers: h })).statusCode, 204);
    assert.equal((await signRelease(t, pub, '3.0')).status, 401);
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/admin/publishers', payload: { name: 'x', namespaces: ['x'] } })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/acme', headers: h, payload: { disabled: true } })).statusCode, 200);

    const auditor = (await t.services.tokens.issueFor({ role: 'auditor', subject: 'aud', ttlMs: 3_600_000 }, 'test')).token;
    const page = await t.app.inject({ url: '/v1/admin/audit?limit=500', headers: bearer(auditor) });
    assert.equal(page.statusCode, 200, page.body);
    const events = page.json().items as { seq: number; action: string; actor: string; target: string; details: Record<string, unknown>; prevHash: string; hash: string }[];
    const session = events.filter((e) => !e.action.startsWith('key.create') || e.actor !== 'system');
    const actions = session.map((e) => e.action);
    const expected = ['publisher.create', 'token.issue', 'signature.create', 'key.create', 'key.rotate', 'signature.create', 'token.revoke', 'auth.refused', 'auth.refused', 'publisher.update'];
    let at = 0;
    for (const action of expected) {
      const found = actions.indexOf(action, at);
      assert.ok(found >= 0, `${action} after position ${at} in ${actions.join(', ')}`);
      at = found + 1;
    }
    const refused = events.filter((e) => e.action === 'auth.refused');
    assert.deepEqual(refused.map((e) => e.details.code), ['token_revoked', 'token_missing']);
    assert.ok(refused.every((e) => e.actor === 'anonymous' && !JSON.stringify(e).includes(pub)));
    events.forEach((e, i) => {
      assert.equal(e.seq, i + 1);
      if (i > 0) assert.equal(e.prevHash, events[i - 1]!.hash);
    });
    assert.equal((await t.app.inject({ url: '/v1/admin/audit', headers: bearer(pub) })).statusCode, 401);
    const report = await verifyAuditChain(t.database.db);
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.equal(report.checked, events.length);
  });

  it('refuses to change or delete an event through ordinary SQL', async () => {
    await assert.rejects(t.database.db.query(`UPDATE "audit_events" SET "actor" = 'someone' WHERE "seq" = 1`), /append-only/);
    await assert.rejects(t.database.db.query('DELETE FROM "audit_events" WHERE "seq" = 1'), /append-only/);
  });

  it('names the first bad event when one is edited, deleted or moved', async () => {
    await t.services.audit.seal();
    const original = await t.database.db.query<{ details: string }>('SELECT "details"::text AS "details" FROM "audit_events" WHERE "seq" = 3');

    await tamper(`UPDATE "audit_events" SET "details" = "details" || '{"forged": true}'::jsonb WHERE "seq" = 3`);
    let report = await verifyAuditChain(t.database.db);
    assert.deepEqual([report.ok, report.firstBad?.seq], [false, 3]);
    assert.match(report.firstBad!.problem, /changed after it was sealed/);
    await tamper('UPDATE "audit_events" SET "details" = $1::jsonb WHERE "seq" = 3', [original[0]!.details]);
    assert.equal((await verifyAuditChain(t.database.db)).ok, true, 'restored');

    const removed = await t.database.db.query<Record<string, unknown>>('SELECT * FROM "audit_events" WHERE "seq" = 4');
    await tamper('DELETE FROM "audit_events" WHERE "seq" = 4');
    report = await verifyAuditChain(t.database.db);
    assert.deepEqual([report.ok, report.firstBad?.seq], [false, 4]);
    assert.match(report.firstBad!.problem, /missing/);
    const r = removed[0]!;
    await tamper('INSERT INTO "audit_events" ("id", "at", "actor", "action", "target", "details", "seq", "prev_hash", "hash") VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)', [
      r.id,
      r.at,
      r.actor,
      r.action,
      r.target,
      JSON.stringify(r.details),
      r.seq,
      r.prev_hash,
      r.hash,
    ]);
    assert.equal((await verifyAuditChain(t.database.db)).ok, true, 'restored');

    // Reordering: events 5 and 6 swap places.
    await tamper('UPDATE "audit_events" SET "seq" = -"seq" WHERE "seq" IN (5, 6)');
    await tamper('UPDATE "audit_events" SET "seq" = CASE WHEN "seq" = -5 THEN 6 ELSE 5 END WHERE "seq" IN (-5, -6)');
    report = await verifyAuditChain(t.database.db);
    assert.deepEqual([report.ok, report.firstBad?.seq], [false, 5]);

    // Removing the newest events is seen through the chain head.
    await tamper('UPDATE "audit_events" SET "seq" = -"seq" WHERE "seq" IN (5, 6)');
    await tamper('UPDATE "audit_events" SET "seq" = CASE WHEN "seq" = -5 THEN 6 ELSE 5 END WHERE "seq" IN (-5, -6)');
    assert.equal((await verifyAuditChain(t.database.db)).ok, true, 'restored');
    const [{ max }] = (await t.database.db.query<{ max: string }>('SELECT max("seq")::text AS "max" FROM "audit_events"')) as [{ max: string }];
    await tamper('DELETE FROM "audit_events" WHERE "seq" = $1::bigint', [max]);
    report = await verifyAuditChain(t.database.db);
    assert.equal(report.ok, false);
    assert.match(report.firstBad!.problem, /removed/);
  });
});
