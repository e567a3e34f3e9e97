// `node --import tsx bench/cpu-per-request.ts [DIR]`: the CPU time the modelsign process spends
// per request (user + system, from /proc), for a fixed number of requests: POST /v1/signatures
// (Ed25519, then ECDSA P-256), POST /v1/signatures/batch (per signature) and
// GET /v1/signatures/{id}, at 50 connections on PostgreSQL. DIR is the checkout whose
// `bin/modelsign.js serve` is measured (default: this one), so
// `node scripts/bench-compare.mjs REV cpu` can hold an older commit to the same load.
//
// Why beside the throughput benches: on this 2-core machine the service, PostgreSQL and the load
// generator share the cores, and a throughput ratio moves by ±20 % between runs of one commit (the
// reads ratio is mostly the generator's own limit). CPU per request is the service's own cost, and
// varies by a few per cent. PostgreSQL's CPU in the same interval is printed on its own line (all
// of the server's processes: nothing else should use it meanwhile), and so are the bytes of
// write-ahead log per request and the checkpoints PostgreSQL made meanwhile: what the CPU figures
// miss, since every signing commit waits for its WAL to reach the disk.
//
// Options (environment): BENCH_ROUNDS (default 2; each prints its own lines), BENCH_SIGN_REQUESTS
// (20000; also the signatures of the batch measure, BENCH_BATCH (50) a request), BENCH_READ_REQUESTS
// (100000), BENCH_LOG_LEVEL (warn), TEST_DATABASE_URL.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { createPostgresDatabase } from '../test/support/db.ts';
import { benchPublisher, caller, CONNECTIONS, releaseBody, serviceEnv, start } from './support.ts';

const dir = path.resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
const BIN = path.join(dir, 'bin/modelsign.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SIGN_REQUESTS = Number(process.env.BENCH_SIGN_REQUESTS ?? 20_000);
const READ_REQUESTS = Number(process.env.BENCH_READ_REQUESTS ?? 100_000);
/** Releases per batch request in the batch measure (as bench:sign's BENCH_BATCH). */
const BATCH = Number(process.env.BENCH_BATCH ?? 50);
// /proc/PID/stat counts CPU time in clock ticks (USER_HZ, 100 on Linux).
const TICK_MS = 10;

/** CPU milliseconds process `pid` has used (user + system); 0 for one that has exited. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU milliseconds used so far by every PostgreSQL server process (its backends and workers). */
function postgresCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += cpuMs(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

const db = await createPostgresDatabase();
let service: Awaited<ReturnType<typeof start>> | undefined;
let stats: pg.Client | undefined;
try {
  const env = serviceEnv(db.url);
  service = await start([BIN, 'serve'], env);
  const pid = service.child.pid!;
  const client = (stats = new pg.Client({ connectionString: db.url }));
  await client.connect();
  /** The cluster's WAL position (bytes) and checkpoints so far. */
  const walState = async () => {
    const { rows } = await client.query<{ lsn: string; checkpoints: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), \'0/0\')::text AS lsn, (checkpoints_timed + checkpoints_req)::text AS checkpoints FROM pg_stat_bgwriter');
    return { lsn: Number(rows[0]!.lsn), checkpoints: Number(rows[0]!.checkpoints) };
  };
  const call = caller(service.base);
  const publisher = await benchPublisher(BIN, env, call);
  const signed = await call('POST', '/v1/signatures', JSON.parse(releaseBody('acme')), publisher);

  // `per`: signatures a request carries (a batch's figures are per signature, not per request).
  const measure = async (label: string, url: string, amount: number, request: autocannon.Request, per = 1) => {
    await autocannon({ url, connections: CONNECTIONS, amount: Math.floor(amount / 4), requests: [request] }); // warm-up: JIT, pools, caches
    const before = cpuMs(pid);
    const pgBefore = postgresCpuMs();
    const walBefore = await walState();
    const t0 = performance.now();
    const result = await autocannon({ url, connections: CONNECTIONS, amount, requests: [request] });
    const us = ((cpuMs(pid) - before) * 1000) / (amount * per);
    const pgUs = ((postgresCpuMs() - pgBefore) * 1000) / (amount * per);
    const seconds = (performance.now() - t0) / 1000;
    const walAfter = await walState();
    if (result.errors + result.timeouts + result.non2xx > 0) throw new Error(`${label}: ${result.errors + result.timeouts} errors, ${result.non2xx} non-2xx answers`);
    console.log(`cpu per request (${label}) ${us.toFixed(1)} µs`);
    // A pooled connection closed while idle takes its backend's CPU out of the sum: no figure then.
    if (pgUs >= 0) console.log(`cpu per request (${label}, PostgreSQL) ${pgUs.toFixed(1)} µs`);
    else console.log(`# ${label}: a PostgreSQL process exited meanwhile, its CPU is not counted`);
    console.log(`wal per request (${label}) ${((walAfter.lsn - walBefore.lsn) / (amount * per)).toFixed(0)} bytes; ${walAfter.checkpoints - walBefore.checkpoints} PostgreSQL checkpoints; ${(amount / seconds).toFixed(0)} req/s`);
  };
  const signing = (namespace: string): autocannon.Request => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisher}` },
    setupRequest: (req: autocannon.Request) => ({ ...req, body: releaseBody(namespace) }),
  });
  console.log(`# ${BIN} serve, PostgreSQL, ${CONNECTIONS} connections; ${SIGN_REQUESTS} signing and ${READ_REQUESTS} read requests a measure`);
  for (let round = 0; round < ROUNDS; round++) {
    await measure('sign ed25519', `${service.base}/v1/signatures`, SIGN_REQUESTS, signing('acme'));
    await measure('sign ecdsa-p256', `${service.base}/v1/signatures`, SIGN_REQUESTS, signing('acme-ec'));
    const batch = { ...signing('acme'), setupRequest: (req: autocannon.Request) => ({ ...req, body: `{"items":[${Array.from({ length: BATCH }, () => releaseBody('acme')).join(',')}]}` }) };
    await measure(`sign batch of ${BATCH} ed25519, per signature`, `${service.base}/v1/signatures/batch`, Math.ceil(SIGN_REQUESTS / BATCH), batch, BATCH);
    await measure('read', `${service.base}/v1/signatures/${signed.id}`, READ_REQUESTS, { method: 'GET' });
  }
} finally {
  await stats?.end();
  if (service) {
    const exited = new Promise((resolve) => service!.child.once('exit', resolve));
    service.child.kill('SIGTERM');
    await exited;
  }
  await db.drop();
}
