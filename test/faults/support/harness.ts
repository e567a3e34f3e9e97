// What the fault tests share: service processes on PostgreSQL whose output is kept (and later
// searched for secrets), tokens issued through the real CLI, a signing load from many
// concurrent clients, and checks of what the database holds afterwards.
import { algorithmOf } from '../../../src/core/crypto/registry.ts';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { unwrapKey, parseKek } from '../../../src/services/key-backends/kek.ts';
import { runCliAsync, startService, type Service } from '../../support/process.ts';
import { secretForms } from '../../support/secrets.ts';

export const FAULT_LOGS = path.resolve('test/.cache/fault-logs');

export interface Deployment {
  url: string;
  kek: string;
  env: Record<string, string>;
  services: Service[];
  /** Every line every service process wrote, across restarts. */
  logs(): string;
  start(extra?: Record<string, string>): Promise<Service>;
  token(role: 'admin' | 'publisher' | 'auditor', who: string): Promise<string>;
  /** An admin token, the publisher `acme` (created through `service`) and a token for it. */
  acme(service: Service): Promise<{ admin: string; publisher: string }>;
  /** Writes the logs (and the secrets to look for) under test/.cache/fault-logs/NAME. */
  saveLogs(name: string): void;
}

export function deployment(url: string, extraEnv: Record<string, string> = {}): Deployment {
  const kek = randomBytes(32).toString('base64');
  const env = {
    DATABASE_URL: url,
    MODELSIGN_KEK: kek,
    LOG_LEVEL: 'info',
    MODELSIGN_RATE_LIMIT_PUBLIC: '0',
    MODELSIGN_RATE_LIMIT_TOKEN: '0',
    MODELSIGN_DB_POOL_SIZE: '20',
    ...extraEnv,
  };
  const services: Service[] = [];
  const tokens: string[] = [];
  const d: Deployment = {
    url,
    kek,
    env,
    services,
    logs: () => services.map((s) => s.output()).join('\n'),
    async start(extra = {}) {
      const s = await startService({ ...env, ...extra }, 60_000);
      services.push(s);
      return s;
    },
    async token(role, who) {
      const args = role === 'publisher' ? ['admin', 'token', '--role', 'publisher', '--publisher', who, '--ttl', '1d', '--json'] : ['admin', 'token', '--role', role, '--subject', who, '--ttl', '1d', '--json'];
      const r = await runCliAsync(args, env);
      assert.equal(r.status, 0, r.stderr);
      const token = JSON.parse(r.stdout).token as string;
      tokens.push(token);
      return token;
    },
    async acme(service) {
      const admin = await d.token('admin', 'fault-admin');
      const created = await fetch(`${service.base}/v1/admin/publishers`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'acme', namespaces: ['acme'] }) });
      assert.equal(created.status, 201);
      return { admin, publisher: await d.token('publisher', 'acme') };
    },
    saveLogs(name) {
      const dir = path.join(FAULT_LOGS, name);
      mkdirSync(dir, { recursive: true });
      services.forEach((s, i) => writeFileSync(path.join(dir, `service-${i}.log`), s.output()));
      writeFileSync(path.join(dir, 'tokens.json'), JSON.stringify(tokens), { mode: 0o600 });
    },
  };
  return d;
}

/** The secret forms (test/support/secrets.ts) of this deployment's keys, read from its database. */
async function deploymentSecrets(url: string, kekText: string, tokens: string[]): Promise<string[]> {
  const kek = parseKek(kekText, 'fault test KEK');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client
    // Keys held in a PKCS#11 token have no material here to look for.
    .query<{ kid: string; algorithm: string; public_key: Buffer; private_key_ct: Buffer }>('SELECT "kid", "algorithm", "public_key", "private_key_ct" FROM "keys" WHERE "private_key_ct" IS NOT NULL')
    .finally(() => client.end());
  const keys = rows.map((row) => ({ key: { algorithm: algorithmOf(row.algorithm).id, publicKey: new Uint8Array(row.public_key) }, material: unwrapKey(kek, row.kid, new Uint8Array(row.private_key_ct)) }));
  return secretForms({ keys, kek, tokens });
}

export async function assertNoSecretsIn(text: string, url: string, kek: string, tokens: string[]): Promise<void> {
  assert.ok(text.length > 1000, 'there are logs to search');
  for (const form of await deploymentSecrets(url, kek, tokens)) {
    assert.ok(!text.includes(form), `a secret appears in the logs (${createHash('sha256').update(form).digest('hex').slice(0, 8)})`);
  }
}

export interface Outcome {
  status: number | 'network' | 'timeout';
  ms: number;
  /** When the answer (or the failure) arrived, Date.now(). */
  at: number;
  /** When the request was sent. */
  sentAt: number;
  /** For a network failure, its cause (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET...). */
  cause?: string;
  id?: string;
  logIndex?: number | null;
  code?: string;
  contentType?: string;
  retryAfter?: string;
  base: string;
  path: string;
}

export interface Load {
  outcomes: Outcome[];
  acked(): Outcome[];
  stop(): Promise<void>;
}

interface LoadOptions {
  concurrency?: number;
  timeoutMs?: number;
  pauseMs?: number;
}

/** `concurrency` clients each sending `request(worker, n)` as fast as the service answers, every answer recorded. */
function load(options: LoadOptions, request: (w: number, n: number) => { base: string; path: string; init?: RequestInit }): Load {
  const outcomes: Outcome[] = [];
  let running = true;
  const worker = async (w: number) => {
    for (let n = 0; running; n++) {
      const { base: target, path, init } = request(w, n);
      const started = Date.now();
      try {
        const res = await fetch(`${target}${path}`, { ...init, signal: AbortSignal.timeout(options.timeoutMs ?? 40_000) });
        const text = await res.text();
        let json: { id?: string; logIndex?: number | null; code?: string } = {};
        try {
          json = text ? JSON.parse(text) : {};
        } catch {
          /* not JSON: recorded by status and content type */
        }
        const retryAfter = res.headers.get('retry-after');
        outcomes.push({
          status: res.status,
          ms: Date.now() - started,
          at: Date.now(),
          sentAt: started,
          base: target,
          path,
          contentType: res.headers.get('content-type') ?? '',
          ...(retryAfter !== null ? { retryAfter } : {}),
          ...(json.id ? { id: json.id, logIndex: json.logIndex ?? null } : {}),
          ...(json.code ? { code: json.code } : {}),
        });
      } catch (err) {
        const timeout = (err as Error).name === 'TimeoutError';
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
        outcomes.push({ status: timeout ? 'timeout' : 'network', ms: Date.now() - started, at: Date.now(), sentAt: started, base: target, path, cause });
        if (!timeout) await new Promise((r) => setTimeout(r, 50));
      }
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };
  const workers = Array.from({ length: options.concurrency ?? 50 }, (_, w) => worker(w));
  return {
    outcomes,
    acked: () => outcomes.filter((o) => typeof o.status === 'number' && o.status >= 200 && o.status < 300 && o.path === '/v1/signatures'),
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/**
 * `concurrency` clients signing new releases as fast as the service answers, each against
 * `base(worker)` at the moment it sends (so a restarted service on a new port is picked up, and
 * workers can be spread over instances).
 */
export function signingLoad(base: (worker: number) => string, token: string, options: LoadOptions & { namespace?: string } = {}): Load {
  const prefix = randomBytes(3).toString('hex');
  return load(options, (w, n) => ({
    base: base(w),
    path: '/v1/signatures',
    init: {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: `${options.namespace ?? 'acme'}/load-${prefix}-${w}`, version: `${n}.0`, files: [{ path: 'w.bin', sha256: createHash('sha256').update(`${prefix}-${w}-${n}`).digest('hex'), size: n }] }),
    },
  }));
}

/** `concurrency` clients cycling through read requests (lookups, bundles, keys, proofs, verify). */
export function readLoad(base: () => string, requests: { path: string; body?: unknown }[], options: LoadOptions = {}): Load {
  return load(options, (w, n) => {
    const r = requests[(w + n) % requests.length]!;
    return {
      base: base(),
      path: r.path,
      init: r.body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(r.body) },
    };
  });
}

/** The log in the database: every signature has a distinct index, the indexes are 0..n-1, and the tree holds exactly n leaves. */
export async function assertGaplessLog(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const [counts] = (
      await client.query<{ n: string; distinct: string; max: string | null; unlogged: string }>(
        'SELECT count(*)::text AS n, count(DISTINCT "log_index")::text AS distinct, max("log_index")::text AS max, count(*) FILTER (WHERE "log_index" IS NULL)::text AS unlogged FROM "release_signatures"',
      )
    ).rows;
    const [state] = (await client.query<{ size: string }>('SELECT "size"::text AS size FROM "tlog_state" WHERE "id" = 1')).rows;
    const n = Number(counts!.n);
    assert.equal(Number(counts!.unlogged), 0, 'every stored signature is in the log');
    assert.equal(Number(counts!.distinct), n, 'no two signatures share a log index');
    assert.equal(Number(counts!.max ?? -1), n - 1, 'indexes are 0..n-1: no gap');
    assert.equal(Number(state!.size), n, 'the tree holds exactly the stored signatures');
    return n;
  } finally {
    await client.end();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
