// What the service benches share: starting a process and waiting for it, one load
// generator (autocannon) with a warm-up, printing throughput and p99 in one format, the
// publisher the signing benches sign as and the releases they sign.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { freePort } from '../test/support/process.ts';

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

/**
 * Starts `command args` (node by default) on a free port and waits for it to answer, up to
 * `waitMs` (30 s; a service under valgrind needs minutes). Throws at once if it exits meanwhile.
 */
export async function start(args: string[], env: Record<string, string>, { command = process.execPath, waitMs = 30_000 } = {}): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(command, args, { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'inherit', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  for (const until = Date.now() + waitMs; Date.now() < until; ) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited (${child.exitCode}) before it answered`);
    if (await fetch(`${base}/healthz`).then(() => true, () => false)) return { child, base };
    if (await fetch(`${base}/hello`).then((r) => r.ok, () => false)) return { child, base };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${command} ${args.join(' ')} did not start`);
}

export interface Result {
  rps: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A body per request (a new one each time), or one body for every request. */
  body?: (() => string) | string;
  seconds?: number;
  /** Concurrent connections (default BENCH_CONNECTIONS). */
  connections?: number;
  /** A path per request (a new one each time), instead of the URL's. */
  path?: () => string;
}

async function load(url: string, options: LoadOptions): Promise<Result> {
  const body = options.body;
  const result = await autocannon({
    url,
    connections: options.connections ?? CONNECTIONS,
    duration: options.seconds ?? SECONDS,
    requests: [
      {
        method: options.method,
        headers: { 'content-type': 'application/json', ...options.headers },
        ...(typeof body === 'string' ? { body } : {}),
        ...(typeof body === 'function' || options.path
          ? { setupRequest: (req: autocannon.Request) => ({ ...req, ...(typeof body === 'function' ? { body: body() } : {}), ...(options.path ? { path: options.path() } : {}) }) }
          : {}),
      },
    ],
  });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx };
}

export async function measure(label: string, url: string, options: LoadOptions): Promise<Result> {
  await load(url, { ...options, seconds: 3 }); // warm-up: JIT, pools, caches
  const r = await load(url, options);
  console.log(`${label.padEnd(44)} ${r.rps.toFixed(0).padStart(7)} req/s   p99 ${String(r.p99).padStart(4)} ms   errors ${r.errors}   non-2xx ${r.non2xx}`);
  return r;
}

export const pass = (b: boolean) => (b ? 'PASS' : 'FAIL');

/** The middle value (of an even count, the upper of the two middle ones). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The environment a bench runs `modelsign serve` with: its own database and a new KEK, log level
 * BENCH_LOG_LEVEL (warn; the service's default, info, would measure logging), a pool of 20, and
 * rate limits switched on but out of reach (their cost is measured, not their refusals).
 */
export function serviceEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    MODELSIGN_KEK: randomBytes(32).toString('base64'),
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    MODELSIGN_DB_POOL_SIZE: '20',
    MODELSIGN_RATE_LIMIT_PUBLIC: '10000000',
    MODELSIGN_RATE_LIMIT_TOKEN: '10000000',
  };
}

const digest = (n: number) => n.toString(16).padStart(64, '0');
let releases = 0;
/** A new release to sign (a JSON body for POST /v1/signatures): three files, a version never used before. */
export function releaseBody(namespace = 'acme'): string {
  const n = ++releases;
  return JSON.stringify({
    model: `${namespace}/bench`,
    version: `${process.pid}.${n}`,
    files: [
      { path: 'model.safetensors', sha256: digest(n), size: 4_000_000_000 },
      { path: 'config.json', sha256: digest(n + 1), size: 1_024 },
      { path: 'tokenizer/tokenizer.json', sha256: digest(n + 2), size: 2_000_000 },
    ],
  });
}

/** A JSON request to a service; throws on an answer that is not 2xx. */
export type Call = (method: string, path: string, body?: object, token?: string) => Promise<Record<string, any>>;

export function caller(base: string): Call {
  return async (method, path, body, token) => {
    const r = await fetch(base + path, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<Record<string, any>>;
  };
}

/**
 * The publisher the benches sign as, `acme`: namespace `acme` signed with Ed25519 and `acme-ec`
 * with ECDSA P-256. Made with an admin token from `BIN admin token` (in the service's `env`);
 * returns a publisher token for it.
 */
export async function benchPublisher(bin: string, env: Record<string, string>, call: Call): Promise<string> {
  const admin = spawnSync(process.execPath, [bin, 'admin', 'token', '--role', 'admin', '--subject', 'bench'], { env: { ...process.env, ...env }, encoding: 'utf8' }).stdout.trim();
  await call('POST', '/v1/admin/publishers', { name: 'acme', namespaces: ['acme', 'acme-ec'] }, admin);
  await call('PATCH', '/v1/admin/publishers/acme', { signingAlgorithms: { 'acme-ec': 'ecdsa-p256' } }, admin);
  return (await call('POST', '/v1/admin/tokens', { role: 'publisher', publisher: 'acme', ttl: '1d' }, admin)).token as string;
}
