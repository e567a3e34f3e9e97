// Bad input to every admin route gets a 4xx problem+json with a
// stable code, and nothing changes in the database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';

describe('key and publisher administration refuses bad input without changing anything', () => {
  let t: TestApp;
  let admin: string;
  let pub: string;
  let active: string;
  let revoked: string;
  before(async () => {
    t = await createTestApp();
    admin = await t.adminToken();
    pub = await t.publisherToken('acme');
    await t.publisherToken('beta');
    // One key already revoked, to revoke it twice.
    revoked = t.services.keys.list().find((k) => k.purpose === 'log' && k.status === 'active')!.kid;
    const res = await t.app.inject({ method: 'POST', url: `/v1/admin/keys/${revoked}/revoke`, headers: bearer(admin), payload: { compromisedAt: new Date().toISOString(), reason: 'setup' } });
    assert.equal(res.statusCode, 200, res.body);
    active = t.services.keys.list().find((k) => k.purpose === 'release' && k.algorithm === 'Ed25519' && k.status === 'active')!.kid;
  });
  after(() => t.close());

  const snapshot = async () =>
    JSON.stringify([
      await t.database.db.query('SELECT "kid", "status", "retired_at", "revoked_at", "compromised_at", "reason", "kek_id" FROM "keys" ORDER BY "kid"'),
      await t.database.db.query('SELECT "kid", "signer_kid" FROM "key_links" ORDER BY "seq"'),
      await t.database.db.query('SELECT "id"::text, "disabled_at" FROM "publishers" ORDER BY "name"'),
      await t.database.db.query('SELECT "namespace", "publisher_id"::text FROM "publisher_namespaces" ORDER BY "namespace"'),
      await t.database.db.query(`SELECT count(*)::int FROM "audit_events" WHERE "action" <> 'auth.refused'`),
    ]);

  const future = new Date(Date.now() + 3_600_000).toISOString();
  const cases: [string, () => { method: 'POST' | 'PATCH' | 'GET'; url: string; payload?: unknown; token?: string; headers?: Record<string, string> }, number, string][] = [
    ['unknown kid', () => ({ method: 'POST', url: `/v1/admin/keys/${sha('e')}/revoke`, payload: { compromisedAt: new Date().toISOString(), reason: 'x' } }), 404, 'not_found'],
    ['a kid that is not a kid', () => ({ method: 'POST', url: '/v1/admin/keys/not-a-kid/revoke', payload: { compromisedAt: new Date().toISOString(), reason: 'x' } }), 404, 'not_found'],
    ['revoking twice', () => ({ method: 'POST', url: `/v1/admin/keys/${revoked}/revoke`, payload: { compromisedAt: new Date().toISOString(), reason: 'again' } }), 409, 'key_already_revoked'],
    ['compromisedAt in the future', () => ({ method: 'POST', url: `/v1/admin/keys/${active}/revoke`, payload: { compromisedAt: future, reason: 'x' } }), 400, 'invalid_compromise_time'],
    ['compromisedAt before the key existed', () => ({ method: 'POST', url: `/v1/admin/keys/${active}/revoke`, payload: { compromisedAt: '2001-01-01T00:00:00Z', reason: 'x' } }), 400, 'invalid_compromise_time'],
    ['compromisedAt not a time', () => ({ method: 'POST', url: `/v1/admin/keys/${active}/revoke`, payload: { compromisedAt: 'yesterday', reason: 'x' } }), 400, 'validation_failed'],
    ['compromisedAt missing', () => ({ method: 'POST', url: `/v1/admin/keys/${active}/revoke`, payload: { reason: 'x' } }), 400, 'validation_failed'],
    ['an empty reason', () => ({ method: 'POST', url: `/v1/admin/keys/${active}/revoke`, payload: { compromisedAt: new Date().toISOString(), reason: '' } }), 400, 'validation_failed'],
    ['an unknown field in a revocation', () => ({ method: 'POST', url: `/v1/admin/keys/${active}/revoke`, payload: { compromisedAt: new Date().toISOString(), reason: 'x', status: 'active' } }), 400, 'validation_failed'],
    ['revocation by a publisher token', () => ({ method: 'POST', url: `/v1/admin/keys/${active}/revoke`, payload: { compromisedAt: new Date().toISOString(), reason: 'x' }, token: pub }), 403, 'forbidden_role'],
    ['revocation without a token', () => ({ method: 'POST', url: `/v1/admin/keys/${active}/revoke`, payload: { compromisedAt: new Date().toISOString(), reason: 'x' }, token: '' }), 401, 'token_missing'],
    ['a purpose that does not exist', () => ({ method: 'POST', url: '/v1/admin/keys/rotate', payload: { purpose: 'signing' } }), 400, 'validation_failed'],
    ['no purpose', () => ({ method: 'POST', url: '/v1/admin/keys/rotate', payload: {} }), 400, 'validation_failed'],
    ['a purpose of the wrong type', () => ({ method: 'POST', url: '/v1/admin/keys/rotate', payload: { purpose: ['release'] } }), 400, 'validation_failed'],
    ['expectedActive malformed', () => ({ method: 'POST', url: '/v1/admin/keys/rotate', payload: { purpose: 'release', expectedActive: 'abc' } }), 400, 'validation_failed'],
    ['expectedActive not the active key', () => ({ method: 'POST', url: '/v1/admin/keys/rotate', payload: { purpose: 'release', expectedActive: sha('a') } }), 409, 'rotation_conflict'],
    ['rotation as text/plain', () => ({ method: 'POST', url: '/v1/admin/keys/rotate', payload: 'purpose=release', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type'],
    ['rotation with broken JSON', () => ({ method: 'POST', url: '/v1/admin/keys/rotate', payload: '{"purpose":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json'],
    ['rotation by a publisher token', () => ({ method: 'POST', url: '/v1/admin/keys/rotate', payload: { purpose: 'release' }, token: pub }), 403, 'forbidden_role'],
    ['an unknown publisher', () => ({ method: 'PATCH', url: '/v1/admin/publishers/ghost', payload: { disabled: true } }), 404, 'publisher_unknown'],
    ['an empty publisher change', () => ({ method: 'PATCH', url: '/v1/admin/publishers/acme', payload: {} }), 400, 'validation_failed'],
    ['disabled as a string', () => ({ method: 'PATCH', url: '/v1/admin/publishers/acme', payload: { disabled: 'yes' } }), 400, 'validation_failed'],
    ['a bad namespace', () => ({ method: 'PATCH', url: '/v1/admin/publishers/acme', payload: { namespaces: ['Acme!'] } }), 400, 'invalid_namespace'],
    ['no namespaces', () => ({ method: 'PATCH', url: '/v1/admin/publishers/acme', payload: { namespaces: [] } }), 400, 'validation_failed'],
    ['a namespace another publisher owns', () => ({ method: 'PATCH', url: '/v1/admin/publishers/acme', payload: { namespaces: ['acme', 'beta'] } }), 409, 'namespace_taken'],
    ['an unknown field in a publisher change', () => ({ method: 'PATCH', url: '/v1/admin/publishers/acme', payload: { name: 'evil' } }), 400, 'validation_failed'],
    ['a publisher change by a publisher token', () => ({ method: 'PATCH', url: '/v1/admin/publishers/acme', payload: { disabled: true }, token: pub }), 403, 'forbidden_role'],
    ['an audit page of 0', () => ({ method: 'GET', url: '/v1/admin/audit?limit=0' }), 400, 'validation_failed'],
    ['an audit cursor that is not a number', () => ({ method: 'GET', url: '/v1/admin/audit?cursor=abc' }), 400, 'validation_failed'],
    ['an audit action with odd characters', () => ({ method: 'GET', url: '/v1/admin/audit?action=%27%3B%20drop' }), 400, 'validation_failed'],
    ['the audit trail for a publisher token', () => ({ method: 'GET', url: '/v1/admin/audit', token: pub }), 403, 'forbidden_role'],
  ];

  for (const [what, make, status, code] of cases) {
    it(`${what} → ${status} ${code}`, async () => {
      const before = await snapshot();
      const c = make();
      const token = c.token ?? admin;
      const res = await t.app.inject({
        method: c.method,
        url: c.url,
        headers: { ...(token ? bearer(token) : {}), ...(c.headers ?? {}) },
        ...(c.payload !== undefined ? { payload: c.payload as never } : {}),
      });
      assert.equal(res.statusCode, status, res.body);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(res.json().code, code);
      assert.equal(await snapshot(), before, 'the database is unchanged');
    });
  }
});
