// After a full flow, no table and no log line holds private key material or a
// bearer token.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { unwrapKey } from '../../src/services/key-backends/kek.ts';
import { bearer, createTestApp, sha, testKek, type TestApp } from '../support/app.ts';
import { secretForms as formsOf } from '../support/secrets.ts';
import type { AlgorithmId } from '../../src/core/crypto/algorithm.ts';

describe('no secret leaks', () => {
  let t: TestApp;
  const kek = testKek();
  const tokens: string[] = [];
  before(async () => {
    // An instance whose KEK the test knows, so it can find out what the private keys are.
    t = await createTestApp({ kek });
    const admin = await t.adminToken();
    tokens.push(admin);
    const run = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, token?: string) =>
      t.app.inject({ method, url, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) });
    await run('POST', '/v1/admin/publishers', { name: 'acme', namespaces: ['acme'] }, admin);
    const issued = (await run('POST', '/v1/admin/tokens', { role: 'publisher', publisher: 'acme', ttl: '1h' }, admin)).json();
    tokens.push(issued.token);
    const signed = await run('POST', '/v1/signatures', { model: 'acme/tiny', version: '1.0', files: [{ path: 'a.bin', sha256: sha('a'), size: 1 }] }, issued.token);
    await run('GET', '/v1/keys');
    await run('GET', `/v1/signatures/${signed.json().id}`);
    await run('POST', '/v1/verify', { bundle: signed.json().bundle });
    await run('POST', '/v1/signatures', { model: 'evil/x', version: '1', files: [] }, issued.token);
    await run('GET', '/v1/admin/publishers', undefined, `${issued.token}x`);
    await run('DELETE', `/v1/admin/tokens/${issued.jti}`, undefined, admin);
    await run('POST', '/v1/signatures', { model: 'acme/tiny', version: '2', files: [] }, issued.token);
  });
  after(() => t.close());

  async function secretForms(): Promise<string[]> {
    const keys = await t.services.db.prisma.key.findMany();
    // Release keys of both algorithms, the log key and the token key.
    assert.equal(keys.length, 4);
    return formsOf({
      keys: keys.map((key) => ({ key: { algorithm: key.algorithm as AlgorithmId, publicKey: new Uint8Array(key.publicKey) }, material: unwrapKey(kek, key.kid, key.privateKeyCt!) })),
      kek,
      tokens,
    });
  }

  it('no table holds a private key, the KEK or a token', async () => {
    const tables = await t.services.db.prisma.$queryRaw<{ tablename: string }[]>`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`;
    assert.ok(tables.length >= 8);
    let dump = '';
    for (const { tablename } of tables) {
      const rows = await t.services.db.prisma.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`);
      dump += rows.map((r) => r.row).join('\n');
    }
    assert.ok(dump.includes('acme/tiny'), 'the dump has the data');
    for (const form of await secretForms()) assert.ok(!dump.toLowerCase().includes(form.toLowerCase()), 'a secret is stored in the database');
  });

  it('no log line holds a private key, the KEK or a token', async () => {
    const logs = t.logs.join('\n');
    assert.ok(logs.includes('/v1/signatures'), 'requests were logged');
    for (const form of await secretForms()) assert.ok(!logs.includes(form), 'a secret is in the logs');
  });
});
