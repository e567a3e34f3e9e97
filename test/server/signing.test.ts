import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';

describe('POST /v1/signatures', () => {
  let t: TestApp;
  let token: string;
  before(async () => {
    t = await createTestApp();
    token = await t.publisherToken('acme', ['acme', 'acme-labs']);
  });
  after(() => t.close());

  const sign = (body: unknown, tok = token) => t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(tok), payload: body as object });
  const files = [
    { path: 'b.bin', sha256: sha('b'), size: 2 },
    { path: 'a.bin', sha256: sha('a'), size: 1 },
  ];

  it('is idempotent: the same manifest (in any order) returns the stored signature with 200', async () => {
    const first = await sign({ model: 'acme/idem', version: '1', files });
    assert.equal(first.statusCode, 201);
    const again = await sign({ model: 'acme/idem', version: '1', files: [...files].reverse() });
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), first.json());
  });

  it('refuses a different manifest for a signed version with 409 release_conflict', async () => {
    await sign({ model: 'acme/conflict', version: '1', files });
    const other = await sign({ model: 'acme/conflict', version: '1', files: [{ path: 'a.bin', sha256: sha('c'), size: 1 }] });
    assert.equal(other.statusCode, 409);
    assert.equal(other.json().code, 'release_conflict');
    const ignored = await sign({ model: 'acme/conflict', version: '1', files, ignorePaths: ['.git'] });
    assert.equal(ignored.statusCode, 409, 'ignore paths are part of what is signed');
  });

  it('signs in every namespace the publisher owns and in no other', async () => {
    assert.equal((await sign({ model: 'acme-labs/x', version: '1', files })).statusCode, 201);
    const foreign = await sign({ model: 'other/x', version: '1', files });
    assert.equal(foreign.statusCode, 403);
    assert.equal(foreign.json().code, 'forbidden_namespace');
  });

  it('answers concurrent identical requests with one 201 and the rest 200, all with one signature', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => sign({ model: 'acme/race', version: '1', files })));
    const statuses = results.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 201]);
    assert.equal(new Set(results.map((r) => r.json().id)).size, 1);
  });

  it('pages the list newest first with an opaque cursor', async () => {
    for (let i = 0; i < 5; i++) await sign({ model: 'acme/paged', version: `1.${i}`, files });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { statusCode: number; json(): { items: { version: string }[]; nextCursor: string | null } } = await t.app.inject({ url: `/v1/signatures?model=acme/paged&limit=2${cursor ? `&cursor=${cursor}` : ''}` });
      assert.equal(res.statusCode, 200);
      const page = res.json();
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((i: { version: string }) => i.version));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, ['1.4', '1.3', '1.2', '1.1', '1.0']);
  });

  it('answers unknown signatures, releases and keys with 404 problems', async () => {
    for (const url of ['/v1/signatures/00000000-0000-4000-8000-000000000000', '/v1/signatures/nope', '/v1/models/acme/none/versions/1/bundle', `/v1/keys/${sha('e')}`]) {
      const res = await t.app.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().code, 'not_found');
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
    }
  });

  it('records the signature in the audit trail in the same transaction', async () => {
    const res = await sign({ model: 'acme/audited', version: '1', files });
    const events = await t.services.db.prisma.auditEvent.findMany({ where: { target: `signature:${res.json().id}` } });
    assert.equal(events.length, 1);
    assert.equal(events[0]!.action, 'signature.create');
    assert.equal(events[0]!.actor, 'publisher:acme');
  });
});
