// The embedded test databases are reused within a process (test/support/pglite-pool.ts): a
// database a test dropped comes back to the next test in the template's state, or not at all.
// Runs once: the pool is the embedded database's; PostgreSQL test databases are made and dropped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestDatabase, TEST_DB } from '../support/db.ts';

const skip = TEST_DB !== 'pglite' || !process.env.MODELSIGN_TEST_PGLITE_TEMPLATE ? 'the pool serves the PGlite pass, loaded from the runner\'s template' : false;

describe('embedded test databases, reused', { skip }, () => {
  it('give the next test an empty log, audit trail and key set, with the seed rows and sequences of the template', async () => {
    const first = await createTestDatabase();
    const before = await first.db.query<{ n: string }>('SELECT count(*)::text AS n FROM "_prisma_migrations"');
    await first.db.query(`INSERT INTO "publishers" ("id", "name") VALUES (gen_random_uuid(), 'acme')`);
    await first.db.query('UPDATE "tlog_served" SET "size" = 5');
    const instance = first.pglite;
    await first.drop();
    const second = await createTestDatabase();
    assert.equal(second.pglite, instance, 'the same instance, reset');
    assert.deepEqual(await second.db.query('SELECT count(*)::int AS n FROM "publishers"'), [{ n: 0 }]);
    assert.deepEqual(await second.db.query('SELECT "one", "size" FROM "tlog_served"'), [{ one: true, size: 0 }]);
    assert.deepEqual(await second.db.query<{ n: string }>('SELECT count(*)::text AS n FROM "_prisma_migrations"'), before);
    await second.drop();
  });

  it('give an instance to one test only, however often the test before closed it', { timeout: 30_000 }, async () => {
    const first = await createTestDatabase();
    const instance = first.pglite;
    // Closed by the runtime and then dropped by the test, at once or one after the other.
    await Promise.all([first.db.close(), first.drop()]);
    await first.drop();
    const a = await createTestDatabase();
    const b = await createTestDatabase();
    assert.equal(a.pglite, instance, 'the instance given back is reused');
    assert.notEqual(b.pglite, instance, 'by one test, not two');
    await a.drop();
    await b.drop();
  });

  it('close a database whose schema a test changed (a trigger disabled) instead of reusing it', async () => {
    const changed = await createTestDatabase();
    await changed.db.query('ALTER TABLE "audit_events" DISABLE TRIGGER "audit_events_append_only"');
    const instance = changed.pglite!;
    await changed.drop();
    assert.ok(instance.closed, 'closed');
    const next = await createTestDatabase();
    assert.notEqual(next.pglite, instance);
    assert.deepEqual(await next.db.query(`SELECT tgenabled::text AS e FROM pg_trigger WHERE tgname = 'audit_events_append_only'`), [{ e: 'O' }]);
    await next.drop();
  });
});
