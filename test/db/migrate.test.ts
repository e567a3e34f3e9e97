import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { openDatabase } from '../../src/db/client.ts';
import { migrate, MigrationError, readMigrations } from '../../src/db/migrate.ts';
import { createPostgresDatabase, TEST_DB } from '../support/db.ts';

describe('migration runner', () => {
  it('reads migrations in order with Prisma\'s checksum (SHA-256 of the file)', () => {
    const migrations = readMigrations();
    assert.ok(migrations.length >= 1);
    assert.deepEqual(migrations.map((m) => m.name), [...migrations.map((m) => m.name)].sort());
    for (const m of migrations) assert.equal(m.checksum, createHash('sha256').update(m.sql).digest('hex'));
  });

  it('applies each migration once, and refuses an edited or unknown one', async () => {
    const db = TEST_DB === 'postgres' ? undefined : await openDatabase({});
    const pgdb = TEST_DB === 'postgres' ? await createPostgresDatabase() : undefined;
    const database = db ?? (await openDatabase({ url: pgdb!.url, poolSize: 10 }));
    try {
      const migrations = readMigrations();
      assert.deepEqual(await migrate(database, migrations), migrations.map((m) => m.name));
      assert.deepEqual(await migrate(database, migrations), []);
      const edited = migrations.map((m, i) => (i === 0 ? { ...m, checksum: 'f'.repeat(64) } : m));
      await assert.rejects(migrate(database, edited), (err) => err instanceof MigrationError && /edited after it was applied/.test(err.message));
      await assert.rejects(migrate(database, migrations.slice(1)), (err) => err instanceof MigrationError && /newer modelsign/.test(err.message));
      const rows = await database.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "_prisma_migrations"`;
      assert.equal(rows[0]!.n, migrations.length);
    } finally {
      await database.close();
      await pgdb?.drop();
    }
  });

  it('applies migrations once when many instances start together', { skip: TEST_DB !== 'postgres' && 'needs PostgreSQL (runs in the PostgreSQL pass)' }, async () => {
    const pgdb = await createPostgresDatabase();
    const dbs = await Promise.all(Array.from({ length: 6 }, () => openDatabase({ url: pgdb.url, poolSize: 2 })));
    try {
      const applied = await Promise.all(dbs.map((db) => migrate(db)));
      assert.equal(applied.filter((a) => a.length > 0).length, 1, 'exactly one instance applied them');
      assert.equal(applied.flat().length, readMigrations().length);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await pgdb.drop();
    }
  });
});
