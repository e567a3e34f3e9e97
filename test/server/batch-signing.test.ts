// POST /v1/signatures/batch: one result per item (201 new, 200 the same manifest again, 409 a
// conflict, 403 a foreign namespace, 400 a bad item), the new signatures stored in one statement
// (a batch that fails half-way stores nothing), and every stored signature in the log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';

interface Result {
  status: number;
  signature?: { id: string; model: string; version: string; logIndex: number | null; bundle: { verificationMaterial: { tlogEntries: unknown[] } } };
  problem?: { code: string; detail: string };
}

const item = (model: string, version: string, c: string) => ({ model, version, files: [{ path: 'model.safetensors', sha256: sha(c), size: 1 }, { path: 'config.json', sha256: sha('f'), size: 2 }] });

describe('batch signing', () => {
  let t: TestApp;
  let token: string;
  before(async () => {
    t = await createTestApp();
    token = await t.publisherToken('acme');
    await t.publisherToken('other');
  });
  after(() => t.close());

  const batch = (items: object[]) => t.app.inject({ method: 'POST', url: '/v1/signatures/batch', headers: bearer(token), payload: { items } });
  const logSize = async () => Number((await t.services.db.query<{ size: string }>('SELECT "size"::text AS "size" FROM "tlog_state"'))[0]!.size);
  const count = async (table: string, where = 'true') => Number((await t.services.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${table}" WHERE ${where}`))[0]!.n);

  it('signs 100 releases in one request with repeats, a conflict and a foreign namespace, each answered on its own, all new ones in the log', async () => {
    // Signed before the batch: two to repeat exactly, one to conflict with.
    for (const [version, c] of [['r1', '1'], ['r2', '2'], ['c1', '3']] as const) {
      assert.equal((await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: item('acme/quant', version, c) })).statusCode, 201);
    }
    const items = [item('acme/quant', 'r1', '1'), item('acme/quant', 'r2', '2'), item('acme/quant', 'c1', '9'), item('other/model', '1', 'a'), item('acme/quant', 'bad version!', 'a')];
    for (let i = 0; items.length < 99; i++) items.push(item('acme/quant', `q${i}`, (i % 9).toString()));
    items.push(item('acme/quant', 'q0', '0')); // repeats an earlier item of the same batch
    const sizeBefore = await logSize();
    const res = await batch(items);
    assert.equal(res.statusCode, 200, res.body);
    const results = res.json().results as Result[];
    assert.equal(results.length, 100);
    assert.deepEqual(results.slice(0, 5).map((r) => [r.status, r.problem?.code]), [[200, undefined], [200, undefined], [409, 'release_conflict'], [403, 'forbidden_namespace'], [400, 'invalid_version']]);
    const created = results.filter((r) => r.status === 201);
    assert.equal(created.length, 94);
    assert.equal(results[99]!.status, 200);
    assert.equal(results[99]!.signature!.id, results[5]!.signature!.id, 'a repeat within the batch is the same signature');
    assert.equal(await logSize(), sizeBefore + 94, 'exactly the new signatures were appended');
    assert.deepEqual(new Set(created.map((r) => r.signature!.logIndex)).size, 94);
    for (const r of [...created, results[0]!, results[1]!]) {
      assert.equal(r.signature!.bundle.verificationMaterial.tlogEntries.length, 1, `${r.signature!.version} has its log entry`);
      const verdict = (await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle: r.signature!.bundle } })).json();
      assert.equal(verdict.valid, true, JSON.stringify(verdict.reasons));
      assert.equal(verdict.logIndex, r.signature!.logIndex);
    }
    // One audit event per new signature, as for single requests.
    assert.equal(await count('audit_events', `"action" = 'signature.create' AND "details"->>'model' = 'acme/quant'`), 3 + 94);
  });

  it('stores nothing when the batch fails half-way (a row the database refuses mid-statement)', async () => {
    // Injected: the database refuses one row of the statement, after the others were inserted.
    await t.services.db.query(`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW."model" = 'acme/poison' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`);
    await t.services.db.query('CREATE TRIGGER poison BEFORE INSERT ON "release_signatures" FOR EACH ROW EXECUTE FUNCTION poison()');
    const items = Array.from({ length: 10 }, (_, i) => item(i === 6 ? 'acme/poison' : 'acme/atomic', `v${i}`, 'b'));
    const [signatures, size, audit] = [await count('release_signatures'), await logSize(), await count('audit_events')];
    try {
      const res = await batch(items);
      assert.ok(res.statusCode >= 500, `${res.statusCode} ${res.body}`);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(await count('release_signatures'), signatures, 'no signature stored');
      assert.equal(await logSize(), size, 'the log did not grow');
      assert.equal(await count('audit_events'), audit, 'no audit event');
    } finally {
      await t.services.db.query('DROP TRIGGER poison ON "release_signatures"');
      await t.services.db.query('DROP FUNCTION poison()');
    }
    const again = await batch(items);
    assert.deepEqual((again.json().results as Result[]).map((r) => r.status), Array(10).fill(201), 'the same batch stores in full once the fault is gone');
  });

  it('refuses more than 100 items, and non-publisher tokens', async () => {
    const many = await batch(Array.from({ length: 101 }, (_, i) => item('acme/many', String(i), 'a')));
    assert.equal(many.statusCode, 400);
    assert.equal(many.json().code, 'validation_failed');
    const admin = await t.app.inject({ method: 'POST', url: '/v1/signatures/batch', headers: bearer(await t.adminToken()), payload: { items: [item('acme/x', '1', 'a')] } });
    assert.equal(admin.statusCode, 403);
    assert.equal(admin.json().code, 'forbidden_role');
  });
});
