// The composition root starts and stops a whole service (database, services, background work,
// HTTP server, control socket) as a unit: twice in one process, with requests in between, and
// nothing it made is left open afterwards (no timer, socket, server or database connection).
// A served instance also passes REDIS_URL on to its rate limits.
// Runs alone: it watches every async resource the process makes, which another file's leftovers would add to.
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import { startInstance } from '../../src/app/instance.ts';
import { createLogger } from '../../src/app/logger.ts';
import type { Config } from '../../src/config.ts';
import { createPostgresDatabase, TEST_DB, ADMIN_URL } from '../support/db.ts';
import { testConfig } from '../support/app.ts';

/**
 * Async resources created while `fn` runs that are still alive (not closed, cleared or fired)
 * afterwards, with where each was made. Left out: resources that are short-lived by nature or
 * hold nothing open (promises, requests in flight, Prisma's per-query AsyncResource, which never
 * emits a destroy), and those of the test's own HTTP client (undici keeps a timer of its own).
 */
async function leftOpen(fn: () => Promise<void>): Promise<string[]> {
  const live = new Map<number, string>();
  // Crypto jobs (RANDOMBYTESREQUEST, PBKDF2REQUEST, KEYPAIRGENREQUEST: a generateKeyPairSync makes
  // one too) are destroyed when collected, not when done: whether they are by now depends on the
  // collector (a loaded npm test run once left the two keygen jobs of the first start), not on
  // anything the instance holds open.
  const ignored = new Set(['PROMISE', 'TickObject', 'Immediate', 'Microtask', 'FSREQCALLBACK', 'FSREQPROMISE', 'GETADDRINFOREQWRAP', 'SHUTDOWNWRAP', 'WRITEWRAP', 'ZLIB', 'RANDOMBYTESREQUEST', 'PBKDF2REQUEST', 'KEYPAIRGENREQUEST', 'QUERYWRAP', 'TCPCONNECTWRAP', 'PIPECONNECTWRAP', 'HTTPINCOMINGMESSAGE', 'HTTPCLIENTREQUEST', 'prisma-client-request']);
  const hook = createHook({
    init(id, type) {
      if (ignored.has(type)) return;
      const stack = new Error().stack ?? '';
      if (!stack.includes('undici')) live.set(id, `${type} ${stack.split('\n').slice(3, 9).join(' <')}`);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  try {
    await fn();
  } finally {
    // Let closes that were already asked for complete, and Node's own HTTP date cache (an unref'd
    // one-second timer of node:internal/http) expire.
    await new Promise((r) => setTimeout(r, 1_100));
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    hook.disable();
  }
  return [...live.values()];
}

describe('a service instance, started and stopped as a unit', () => {
  let dir: string;
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'modelsign-instance-'));
    if (TEST_DB === 'postgres') {
      const created = await createPostgresDatabase();
      databaseUrl = created.url;
      dropDatabase = created.drop;
    }
  });
  after(async () => {
    await dropDatabase?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (overrides: Partial<Config> = {}): Config =>
    testConfig({ host: '127.0.0.1', port: 0, logLevel: 'silent', databaseUrl, dataDir: path.join(dir, 'data'), kek: randomKek, dbPoolSize: 4, ...overrides });
  const randomKek = randomBytes(32).toString('base64');

  it('starts, serves and stops twice in one process, leaving no timer, socket or connection open', async () => {
    const before = process.getActiveResourcesInfo();
    const left = await leftOpen(async () => {
      for (let round = 1; round <= 2; round++) {
        const instance = await startInstance(config(), createLogger('silent'));
        assert.equal((await fetch(`${instance.url}/readyz`)).status, 200, `round ${round}: ready`);
        const keys = (await (await fetch(`${instance.url}/v1/keys`)).json()) as { keys: unknown[] };
        assert.equal(keys.keys.length, 4, `round ${round}: the same four keys (release keys of both algorithms, log, token)`);
        assert.equal((await fetch(`${instance.url}/v1/log/checkpoint`)).status, 200);
        await instance.stop(1_000);
        await assert.rejects(fetch(`${instance.url}/healthz`), `round ${round}: nothing listens after stop`);
      }
    });
    assert.deepEqual(left, [], 'every timer, socket and handle the instances made is closed');
    assert.deepEqual(process.getActiveResourcesInfo().sort(), before.sort());
    if (databaseUrl) {
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ n: string }>('SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = $1', [new URL(databaseUrl).pathname.slice(1)]);
        assert.equal(rows[0]!.n, '0', 'no connection to the database is left');
      } finally {
        await admin.end();
      }
    }
  });

  it('shares rate limits through REDIS_URL between served instances', async (ctx) => {
    // Served instances start in about a second on PostgreSQL and several on a fresh embedded
    // database; the served path is the same on both, so this runs once, in the PostgreSQL pass.
    if (!databaseUrl) return ctx.skip('runs in the PostgreSQL pass');
    const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const probe = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    probe.on('error', () => undefined);
    const reachable = await probe.connect().then(() => probe.ping().then(() => true), () => false);
    probe.disconnect();
    if (!reachable && process.env.MODELSIGN_TEST_REQUIRE_REDIS === '1') throw new Error(`Redis is required but ${url} is unreachable`);
    if (!reachable) return ctx.skip(`Redis unreachable at ${url} (set TEST_REDIS_URL; CI requires it)`);
    // Two instances of one deployment: only Redis can make them count together.
    const limits = { publicPerMinute: 0, tokenPerMinute: 3 };
    const a = await startInstance(config({ rateLimit: limits, redisUrl: url }), createLogger('silent'));
    const b = await startInstance(config({ rateLimit: limits, redisUrl: url }), createLogger('silent'));
    try {
      const token = (await a.runtime.services.tokens.issueFor({ role: 'admin', subject: `redis-${randomBytes(4).toString('hex')}`, ttlMs: 60_000 }, 'test')).token;
      const get = (base: string) => fetch(`${base}/v1/admin/publishers`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
      assert.deepEqual([await get(a.url), await get(a.url), await get(a.url)], [200, 200, 200]);
      // Counting alone, b would still have its own budget of three and answer 200.
      assert.equal(await get(b.url), 429, 'the fourth request, on the other instance, is over the shared budget');
    } finally {
      await a.stop(1_000);
      await b.stop(1_000);
    }
  });
});
