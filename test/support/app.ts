// A complete instance for tests: database, services, Fastify app, captured logs, and helpers
// for the tokens most tests need.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createServices } from '../../src/app/create-services.ts';
import { openKeyBackend } from '../../src/app/key-backend.ts';
import type { KeySlot } from '../../src/core/keys/lifecycle.ts';
import { createLogger } from '../../src/app/logger.ts';
import { loadConfig, type Config, type OidcConfig, type Pkcs11Config } from '../../src/config.ts';
import type { RotationSchedule } from '../../src/core/keys/lifecycle.ts';
import { parseWitnessPolicy } from '../../src/core/tlog/witness-policy.ts';
import { buildApp } from '../../src/server/app.ts';
import type { RateLimitOptions } from '../../src/server/plugins/rate-limits.ts';
import type { Clock } from '../../src/services/support/clock.ts';
import type { Services } from '../../src/services/index.ts';
import { KekWrappedBackend } from '../../src/services/key-backends/kek-wrapped.ts';
import { parseKek, type Kek } from '../../src/services/key-backends/kek.ts';
import type { KeyBackend } from '../../src/services/key-backends/key-backend.ts';
import type { Pkcs11Module } from '../../src/services/key-backends/pkcs11/binding.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { softHsm } from './softhsm.ts';

/**
 * The key backend test apps use unless a test names one: `kek`, or `pkcs11` (a SoftHSM2 token)
 * when the runner's PKCS#11 pass sets MODELSIGN_TEST_KEY_BACKEND (files marked
 * `// Key backends: kek, pkcs11` run in both).
 */
export const TEST_KEY_BACKEND = (process.env.MODELSIGN_TEST_KEY_BACKEND ?? 'kek') as 'kek' | 'pkcs11';

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  database: TestDatabase;
  /** Every log line the instance wrote. */
  logs: string[];
  adminToken(): Promise<string>;
  /** Creates the publisher (if needed) and returns a token for it. */
  publisherToken(name: string, namespaces?: string[]): Promise<string>;
  close(): Promise<void>;
}

/** The configuration of an instance under test: the defaults (config.ts) with `overrides`. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const base = loadConfig({});
  const publicUrl = overrides.publicUrl ?? 'https://tlog.modelsign.test';
  return { ...base, publicUrl, logOrigin: undefined, oidc: { ...base.oidc, audience: publicUrl, allowInsecure: true, perRepositoryPerHour: 0 }, ...overrides };
}

export function testKek() {
  return parseKek(randomBytes(32).toString('base64'), 'test KEK');
}

/**
 * Now plus `offsetMs`, to the whole second (log times are whole seconds). Tests that set a
 * service's clock start from this, never from a calendar date, so they cannot go stale.
 */
export function wholeSecondFromNow(offsetMs = 0): Date {
  return new Date(Math.floor((Date.now() + offsetMs) / 1000) * 1000);
}

export { MutableClock } from './mutable-clock.ts';

export interface TestAppOptions {
  clock?: Clock;
  database?: TestDatabase;
  kek?: Kek;
  tlogWaitMs?: number;
  /** Bytes of tiles cached per instance (default the service's). */
  tileCacheBytes?: number;
  checkpointIntervalMs?: number;
  rotation?: RotationSchedule;
  scheduleIntervalMs?: number;
  rateLimit?: RateLimitOptions;
  requestTimeoutMs?: number;
  statePollMs?: number;
  authRefusalsPerMinute?: number;
  keyBackend?: 'kek' | 'pkcs11';
  /** With keyBackend pkcs11: settings over the test token's (e.g. which slots live in the token). */
  pkcs11?: Partial<Pkcs11Config>;
  /** Trusted publishing settings over the tests' (http issuers allowed, the audience is the public URL). */
  oidc?: Partial<OidcConfig>;
  /** ID-token exchanges a minute per address before 429 (default none). */
  oidcExchangesPerMinute?: number;
  /** MODELSIGN_WEB for this app (default all). */
  web?: 'all' | 'public' | 'off';
  /** With keyBackend pkcs11: wraps the module (fault injection). */
  wrapModule?: (module: Pkcs11Module) => Pkcs11Module;
  /** MODELSIGN_WITNESS_POLICY's content (each witness line with its URL), and the pace per witness (default 50 ms here). */
  witnesses?: { policy: string; paceMs?: number };
  /** MODELSIGN_MIRROR_URL: a mirror whose checkpoint is read at start. */
  mirrorUrl?: string;
  /** MODELSIGN_MIRROR_DIR (the job runs every mirrorIntervalMs, default an hour: tests run it by hand with services.mirror.run()). */
  mirrorDir?: string;
  mirrorIntervalMs?: number;
  /** MODELSIGN_LOG_ORIGIN (default the public URL's host). */
  logOrigin?: string;
  /** MODELSIGN_PUBLIC_URL (default https://tlog.modelsign.test): a new log's origin is its host. */
  publicUrl?: string;
  /** Called with the services before they start (a test witness that needs the log key reads it from them). */
  onServices?: (services: Services) => void;
}

/** A witness configuration as config.ts builds it from MODELSIGN_WITNESS_POLICY. */
export function testWitnessConfig(policyText: string, paceMs = 50): NonNullable<Config['witnesses']> {
  const policy = parseWitnessPolicy(policyText);
  return { text: policyText, policy, targets: policy.witnesses.map((w) => ({ name: w.name, key: w.key, url: w.url!, paceMs })) };
}

/** The key backend of a test app: KEK-wrapped, or the process's SoftHSM2 token (with the KEK for the slots left out). */
export async function testBackend(options: Pick<TestAppOptions, 'kek' | 'keyBackend' | 'pkcs11' | 'wrapModule'> & { slots?: readonly KeySlot[] }, logger: ReturnType<typeof createLogger>): Promise<KeyBackend> {
  const kek = options.kek ?? testKek();
  if ((options.keyBackend ?? TEST_KEY_BACKEND) === 'kek') return new KekWrappedBackend(kek);
  const config = testConfig({ databaseUrl: 'postgresql://unused', kek: kek.key.toString('base64'), keyBackend: 'pkcs11', pkcs11: softHsm().config(options.pkcs11) });
  return openKeyBackend(config, logger, { wrapModule: options.wrapModule, slots: options.slots });
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('trace', sink);
  const config = testConfig({
    ...(options.tlogWaitMs !== undefined ? { tlogWaitMs: options.tlogWaitMs } : {}),
    ...(options.tileCacheBytes !== undefined ? { tileCacheBytes: options.tileCacheBytes } : {}),
    ...(options.statePollMs !== undefined ? { statePollMs: options.statePollMs } : {}),
    ...(options.checkpointIntervalMs !== undefined ? { checkpointIntervalMs: options.checkpointIntervalMs } : {}),
    // Tests with a schedule run it by hand (keys.runSchedule) unless they ask for a period.
    ...(options.rotation ? { rotation: options.rotation, scheduleIntervalMs: options.scheduleIntervalMs ?? 3_600_000 } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.mirrorUrl ? { mirrorUrl: options.mirrorUrl } : {}),
    ...(options.logOrigin ? { logOrigin: options.logOrigin } : {}),
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    ...(options.mirrorDir ? { mirror: { dir: options.mirrorDir, intervalMs: options.mirrorIntervalMs ?? 3_600_000 } } : {}),
    ...(options.witnesses ? { witnesses: testWitnessConfig(options.witnesses.policy, options.witnesses.paceMs), witnessIntervalMs: 20, witnessRequestTimeoutMs: 2_000 } : {}),
  });
  config.oidc = { ...config.oidc, ...options.oidc };
  const services = createServices(config, { db: database.db, backend: await testBackend(options, logger), logger, clock: options.clock });
  options.onServices?.(services);
  await services.start();
  const app = await buildApp({ services, logger, rateLimit: options.rateLimit, requestTimeoutMs: config.requestTimeoutMs, publicUrl: config.publicUrl, authRefusalsPerMinute: options.authRefusalsPerMinute, oidcExchangesPerMinute: options.oidcExchangesPerMinute, web: options.web });
  await app.ready();
  const publishers = new Map<string, string>();
  return {
    app,
    services,
    database,
    logs,
    async adminToken() {
      return (await services.tokens.issueFor({ role: 'admin', subject: 'test-admin', ttlMs: 3_600_000 }, 'test')).token;
    },
    async publisherToken(name, namespaces = [name]) {
      if (!publishers.has(name)) {
        const existing = await services.publishers.find(name);
        publishers.set(name, existing?.id ?? (await services.publishers.create({ name, namespaces }, 'test')).id);
      }
      return (await services.tokens.issueFor({ role: 'publisher', publisher: name, ttlMs: 3_600_000 }, 'test')).token;
    },
    async close() {
      await app.close();
      await services.stop();
      if (!options.database) await database.drop();
    },
  };
}

export const sha = (c: string) => c.repeat(64).slice(0, 64);

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}

/** Serves the app over HTTP on a free port (for the CLI, which talks to a real service). */
export async function listenTestApp(t: TestApp): Promise<string> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
}
