// `npm run bench:tlog`: the transparency log's two speed targets, measured in one run
// on PostgreSQL:
// 1. Inclusion proofs from storage stay O(log n): the median time to build one (the service's
//    own read path from hash tiles, caches off, so every proof reads the database) at 1,000 entries and at
//    1,000,000 entries; target ratio <= 2. The fill appends leaf hashes through tlog_append, the
//    log's only writer, in batches of 10,000, without signature rows: proof cost depends only on
//    the tree's storage.
// 2. Checkpoint lag under 50-connection signing load: a real `modelsign serve` answering without
//    waiting for checkpoints (MODELSIGN_TLOG_WAIT_MS=0); for each acknowledged signature, the time
//    from its 2xx to the first published checkpoint that covers it (polled every 20 ms); target
//    p99 <= 1.5 s.
// Signing throughput with the log in place is `npm run bench:sign`'s figure.
//
// Options (environment): BENCH_ENTRIES (default 1000000), BENCH_PROOFS (500), BENCH_SECONDS (10),
// BENCH_CONNECTIONS (50), TEST_DATABASE_URL.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { parseCheckpoint } from '../src/core/tlog/checkpoint.ts';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { growLog } from '../test/support/synthetic-log.ts';
import { nodesFromTiles, TileHashes } from '../src/services/tile-hashes.ts';
import { hashRanges, nodeKey, nodesFor } from '../src/core/tlog/proof-build.ts';
import { nodeLogHasher } from '../src/services/support/node-hasher.ts';
import { inclusionRanges } from '../src/core/tlog/tree-math.ts';
import { createPostgresDatabase } from '../test/support/db.ts';
import { freePort } from '../test/support/process.ts';
import { median } from './support.ts';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const PROOFS = Number(process.env.BENCH_PROOFS ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const BIN = fileURLToPath(new URL('../bin/modelsign.js', import.meta.url));

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

type Db = Awaited<ReturnType<typeof openDatabase>>;

// The service's read path without its caches (services/log-reader.ts): one read per hash tile
// the proof's nodes lie in, the nodes computed from them, then the hashes.
async function proofTimes(db: Db, size: number): Promise<number[]> {
  const times: number[] = [];
  const tiles = new TileHashes(db, 0);
  for (let i = 0; i < PROOFS; i++) {
    const index = Math.floor(Math.random() * size);
    const start = performance.now();
    const ranges = inclusionRanges(index, size);
    const ids = nodesFor(ranges);
    const hashes = await nodesFromTiles(ids, tiles, nodeLogHasher);
    const nodes = new Map(ids.map((id, k) => [nodeKey(id), hashes[k]!]));
    const proof = hashRanges(ranges, (id) => nodes.get(nodeKey(id)), nodeLogHasher);
    times.push(performance.now() - start);
    if (proof.length === 0 && size > 1) throw new Error('empty proof');
  }
  return times;
}

async function fillTo(db: Db, target: number): Promise<void> {
  const started = performance.now();
  await growLog(db, target, 10_000);
  process.stdout.write(`  filled ${target} entries (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}

const pg = await createPostgresDatabase();
const children: ChildProcess[] = [];
let ok = true;
try {
  const db = await openDatabase({ url: pg.url, poolSize: 4 });
  await migrate(db);

  console.log(`\n1. inclusion proofs from storage (${PROOFS} random proofs each, database reads every time)`);
  await fillTo(db, 1_000);
  await proofTimes(db, 1_000); // warm-up: plans, connections
  const small = median(await proofTimes(db, 1_000));
  await fillTo(db, ENTRIES);
  await proofTimes(db, ENTRIES);
  const large = median(await proofTimes(db, ENTRIES));
  const ratio = large / small;
  console.log(`  median at ${(1_000).toLocaleString('en')} entries:  ${small.toFixed(3)} ms`);
  console.log(`  median at ${ENTRIES.toLocaleString('en')} entries: ${large.toFixed(3)} ms`);
  console.log(`  ratio ${ratio.toFixed(2)} (target <= 2: ${ratio <= 2 ? 'PASS' : 'FAIL'})`);
  ok &&= ratio <= 2;
  await db.close();

  console.log(`\n2. checkpoint lag, ${CONNECTIONS} connections signing for ${SECONDS} s (fresh database, service without waiting for checkpoints)`);
  const pg2 = await createPostgresDatabase();
  try {
    const port = await freePort();
    const env = { ...process.env, DATABASE_URL: pg2.url, MODELSIGN_KEK: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn', PORT: String(port), MODELSIGN_TLOG_WAIT_MS: '0', MODELSIGN_RATE_LIMIT_PUBLIC: '10000000', MODELSIGN_RATE_LIMIT_TOKEN: '10000000' };
    const child = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(child);
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300 && !(await fetch(`${base}/healthz`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    const admin = spawnSync(process.execPath, [BIN, 'admin', 'token', '--role', 'admin', '--subject', 'bench'], { env, encoding: 'utf8' }).stdout.trim();
    const post = (path: string, body: object, token: string) =>
      fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<Record<string, string>>);
    await post('/v1/admin/publishers', { name: 'acme', namespaces: ['acme'] }, admin);
    const publisher = (await post('/v1/admin/tokens', { role: 'publisher', publisher: 'acme', ttl: '1d' }, admin)).token!;

    const acked: { index: number; at: number }[] = [];
    const seen: { size: number; at: number }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const text = await fetch(`${base}/v1/log/checkpoint`).then((r) => r.text(), () => '');
        if (text) seen.push({ size: parseCheckpoint(text.slice(0, text.lastIndexOf('\n\n') + 1)).size, at: performance.now() });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    let counter = 0;
    const result = await autocannon({
      url: `${base}/v1/signatures`,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${publisher}` },
          setupRequest: (req: autocannon.Request) => ({
            ...req,
            body: JSON.stringify({ model: 'acme/lag', version: `1.${++counter}`, files: [{ path: 'model.safetensors', sha256: counter.toString(16).padStart(64, '0'), size: 1 }] }),
          }),
          onResponse: (status: number, body: string) => {
            if (status === 201) acked.push({ index: JSON.parse(body).logIndex, at: performance.now() });
          },
        },
      ],
    });
    // Let the last checkpoints arrive, then stop polling.
    await new Promise((r) => setTimeout(r, 2000));
    polling = false;
    await poller;
    const lags = acked.map((a) => {
      const covering = seen.find((s) => s.size > a.index && s.at >= a.at - 1000);
      return covering ? Math.max(0, covering.at - a.at) : Infinity;
    });
    const p50 = percentile(lags, 50);
    const p99 = percentile(lags, 99);
    console.log(`  ${acked.length} signatures acknowledged (${result.requests.average.toFixed(0)} req/s, non-2xx ${result.non2xx}), ${seen.length} checkpoint polls`);
    console.log(`  lag from 2xx to a published checkpoint covering the entry: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (target <= 1500: ${p99 <= 1500 ? 'PASS' : 'FAIL'})`);
    ok &&= p99 <= 1500 && result.non2xx === 0;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await pg2.drop();
  }
} finally {
  await pg.drop();
}
process.exitCode = ok ? 0 : 1;
