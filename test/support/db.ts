// Test databases: an in-memory PGlite (from a migrated template when the runner made one, reused
// within a process once reset: test/support/pglite-pool.ts), or a fresh PostgreSQL database per
// test file, dropped afterwards. MODELSIGN_TEST_DB picks which.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openDatabase, wrapPGlite, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { PGlitePool } from './pglite-pool.ts';

export const TEST_DB = (process.env.MODELSIGN_TEST_DB ?? 'pglite') as 'pglite' | 'postgres';
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  db: Database;
  /** Set for PGlite: the instance under `db` (for backups). */
  pglite?: PGlite;
  /** Set for PostgreSQL: the URL of this test's own database. */
  url: string | undefined;
  drop(): Promise<void>;
}

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates an empty PostgreSQL database and returns its URL and a function that drops it. */
export async function createPostgresDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `modelsign_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    name,
    url: databaseUrl(name),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function openPostgresTestDatabase(created: Awaited<ReturnType<typeof createPostgresDatabase>>): Promise<TestDatabase> {
  const db = await openDatabase({ url: created.url, poolSize: 10 });
  return {
    db,
    url: created.url,
    async drop() {
      await db.close().catch(() => undefined);
      await created.drop();
    },
  };
}

/** A migrated database of the kind under test. */
export async function createTestDatabase(kind = TEST_DB): Promise<TestDatabase> {
  if (kind === 'postgres') {
    const opened = await openPostgresTestDatabase(await createPostgresDatabase());
    await migrate(opened.db);
    return opened;
  }
  const template = process.env.MODELSIGN_TEST_PGLITE_TEMPLATE;
  if (template && existsSync(template)) {
    pool ??= new PGlitePool(template);
    const pglite = await pool.take();
    const wrapped = wrapPGlite(pglite);
    // Closing gives the instance back to the pool, which resets it for the next test or closes it
    // (once, however often the test closes it).
    const db: Database = { ...wrapped, close: async () => (await wrapped.prisma.$disconnect(), await pool!.give(pglite)) };
    await migrate(db); // nothing to apply on the runner's template; a stale template would be caught up
    return { db, pglite, url: undefined, drop: () => db.close() };
  }
  const pglite = await PGlite.create();
  const db = wrapPGlite(pglite);
  await migrate(db);
  return { db, pglite, url: undefined, drop: () => db.close() };
}

/** The process's embedded test databases (test/support/pglite-pool.ts), made once the first is asked for. */
let pool: PGlitePool | undefined;

/**
 * A backup of a test database as it is now (PostgreSQL: `pg_dump -Fc`, as the README's backup
 * section does; PGlite: its data directory); `restore` makes a new database from it.
 */
export async function backupTestDatabase(source: TestDatabase): Promise<{ restore(): Promise<TestDatabase> }> {
  if (source.pglite) {
    const dump = await source.pglite.dumpDataDir('none');
    return {
      async restore() {
        const pglite = await PGlite.create({ loadDataDir: dump });
        const db = wrapPGlite(pglite);
        return { db, pglite, url: undefined, drop: () => db.close() };
      },
    };
  }
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'modelsign-backup-')), 'backup.dump');
  execFileSync('pg_dump', ['-Fc', '-d', source.url!, '-f', file]);
  return {
    async restore() {
      const created = await createPostgresDatabase();
      execFileSync('pg_restore', ['--no-owner', '-d', created.url, file]);
      return openPostgresTestDatabase(created);
    },
  };
}
