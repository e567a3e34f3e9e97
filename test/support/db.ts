// Test databases: an in-memory PGlite (from a migrated template when the runner made one), or a
// fresh PostgreSQL database per test file, dropped afterwards. MODELSIGN_TEST_DB picks which.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openDatabase, wrapPGlite, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';

export const TEST_DB = (process.env.MODELSIGN_TEST_DB ?? 'pglite') as 'pglite' | 'postgres';
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  db: Database;
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

async function openTemplatePGlite(): Promise<Database | undefined> {
  const template = process.env.MODELSIGN_TEST_PGLITE_TEMPLATE;
  if (!template || !existsSync(template)) return undefined;
  return wrapPGlite(await PGlite.create({ loadDataDir: new Blob([readFileSync(template)]) }));
}

/** A migrated database of the kind under test. */
export async function createTestDatabase(kind = TEST_DB): Promise<TestDatabase> {
  if (kind === 'postgres') {
    const created = await createPostgresDatabase();
    const db = await openDatabase({ url: created.url, poolSize: 10 });
    await migrate(db);
    return {
      db,
      url: created.url,
      async drop() {
        await db.close().catch(() => undefined);
        await created.drop();
      },
    };
  }
  const db = (await openTemplatePGlite()) ?? (await openDatabase({}));
  await migrate(db);
  return { db, url: undefined, drop: () => db.close() };
}
