// The Prisma client factory: PostgreSQL through @prisma/adapter-pg when a URL is given, the
// embedded PGlite through pglite-prisma-adapter otherwise. Both also expose a raw SQL session
// for what Prisma cannot do through both adapters alike (multi-statement migration files).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { acquireDataDirLock } from './data-dir-lock.ts';
import { databaseFailure } from './errors.ts';

export { Prisma } from '../generated/prisma/client.ts';
export type { PrismaClient };

/** Prisma, inside a transaction or not: what the typed store functions take. */
export type Tx = Prisma.TransactionClient;

export interface SqlSession {
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Database {
  kind: 'postgres' | 'pglite';
  prisma: PrismaClient;
  /**
   * One statement straight through the driver, outside Prisma. For hot paths only: Prisma's
   * raw-query layer costs about 2.5x the driver per statement (measured with 50 concurrent
   * callers on PostgreSQL: ~2,400 against ~6,500 trivial queries/s), which the signing path
   * cannot afford.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * `query` as a named prepared statement: parsed and planned once per connection, not on every
   * call. For the hottest reads only (a tile read by the tiles API): PostgreSQL's planning of a
   * small statement costs it about as much as running it (bench:tiles, 1,000,000 entries: 4,500
   * tiles/s unprepared, 6,300 prepared). `name` must be unique to `sql`.
   */
  queryPrepared<T = Record<string, unknown>>(name: string, sql: string, params: unknown[]): Promise<T[]>;
  /** Runs `fn` in one transaction on one connection with SQL strings, outside Prisma (the log, the batch writer, migrations). */
  sqlTransaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Runs `fn` in one Prisma interactive transaction (the typed store functions). */
  prismaTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Connection pool state, for metrics (PGlite is one in-process connection). */
  poolState(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

export interface PostgresOptions {
  url: string;
  /** PostgreSQL connections at most (config.ts: MODELSIGN_DB_POOL_SIZE). */
  poolSize: number;
  /** PostgreSQL's statement_timeout for every session (MODELSIGN_DB_STATEMENT_TIMEOUT_MS); unset: the server's. */
  statementTimeoutMs?: number;
  /** How long to wait for a pooled or new connection (MODELSIGN_DB_ACQUIRE_TIMEOUT_MS); unset: no limit (pg's). */
  acquireTimeoutMs?: number;
  onError?: (err: Error) => void;
}

export interface PGliteOptions {
  url?: undefined;
  /** PGlite data folder; undefined means an in-memory database (tests). */
  dataDir?: string | undefined;
}

/** PostgreSQL when a URL is given, the embedded PGlite otherwise. */
export type DatabaseOptions = PostgresOptions | PGliteOptions;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options as PostgresOptions) : openPGlite((options as PGliteOptions).dataDir);
}

async function openPostgres(url: string, options: PostgresOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    // The service passes config.ts's values; tools and tests that open a database directly take pg's.
    ...(options.acquireTimeoutMs !== undefined ? { connectionTimeoutMillis: options.acquireTimeoutMs } : {}),
    ...(options.statementTimeoutMs !== undefined ? { statement_timeout: options.statementTimeoutMs } : {}),
    application_name: 'modelsign',
  });
  // An idle client that loses its server emits here; without a listener the process would exit.
  pool.on('error', (err) => options.onError?.(err));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: 'postgres',
    prisma,
    query: async <T>(sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows as T[],
    queryPrepared: async <T>(name: string, sql: string, params: unknown[]) => (await pool.query({ name, text: sql, values: params })).rows as T[],
    poolState: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    prismaTransaction: (fn) => prisma.$transaction(fn),
    async sqlTransaction(fn) {
      const client = await pool.connect();
      let failed: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn({
          exec: async (sql) => void (await client.query(sql)),
          query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        // A session that refused a write as read-only (or lost its connection) is replaced, not
        // reused: after a failover back, or `default_transaction_read_only` turned off, new
        // sessions take writes while old ones would keep refusing them.
        const failure = databaseFailure(err);
        if (failure === 'read_only' || failure === 'unavailable') failed = err as Error;
        throw err;
      } finally {
        client.release(failed);
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPGlite(dataDir: string | undefined): Promise<Database> {
  let release: (() => void) | undefined;
  let dbDir: string | undefined;
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // PGlite is one process's database: a second process opening the same files corrupts them.
    release = acquireDataDirLock(dataDir);
    dbDir = path.join(dataDir, 'pglite');
  }
  try {
    return wrapPGlite(await PGlite.create(dbDir === undefined ? {} : { dataDir: dbDir }), release);
  } catch (err) {
    release?.();
    throw err;
  }
}

/** A Database over an open PGlite instance; `release` runs after it is closed. */
export function wrapPGlite(pglite: PGlite, release?: () => void): Database {
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    kind: 'pglite',
    prisma,
    query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
    // One in-process connection with no planning round trip to save: the plain query.
    queryPrepared: async <T>(_name: string, sql: string, params: unknown[]) => (await pglite.query<T>(sql, params)).rows,
    poolState: () => ({ total: 1, idle: 1, waiting: 0 }),
    prismaTransaction: (fn) => prisma.$transaction(fn),
    sqlTransaction: (fn) =>
      pglite.transaction((tx) =>
        fn({
          exec: async (sql) => void (await tx.exec(sql)),
          query: async <T>(sql: string, params?: unknown[]) => (await tx.query<T>(sql, params)).rows,
        }),
      ),
    async close() {
      await prisma.$disconnect();
      await pglite.close();
      release?.();
    },
  };
}
