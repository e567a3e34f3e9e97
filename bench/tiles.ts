// `npm run bench:tiles`: the log's tiles API (C2SP tlog-tiles) against the fastest a route can be.
// A 1,000,000-entry log on PostgreSQL (synthetic leaves appended with their data through
// tlog_append: test/support/synthetic-log.ts), served by a real `modelsign serve` with rate limits
// off; random full tiles across the whole tree (levels 0 and 1), 50 connections; the baseline is
// a bare Fastify route returning 8 KiB from memory (bench/baseline-server.ts), measured in the
// same run:
// - warm: after a warm-up pass, the tile cache capped at 8 MiB (MODELSIGN_TILE_CACHE_BYTES), less
//   than the tree's 31 MiB of level-0 tiles, so most requests read the database; target >= 0.8x
//   the bare route's requests per second;
// - cold: the cache off (MODELSIGN_TILE_CACHE_BYTES=0).
// Both p99s are printed beside the bare route's.
// Also printed, for scale: the floor of any tile route that reads PostgreSQL per request, a bare
// Fastify route reading level-0 tiles stored one row each (8 KiB, by primary key, prepared, no
// cache; bench/baseline-server.ts) against the same bare route from memory.
//
// Options (environment): BENCH_ENTRIES (default 1000000), BENCH_SECONDS (10), BENCH_CONNECTIONS
// (50), BENCH_NODE_ARGS (node options for the service, such as --cpu-prof), TEST_DATABASE_URL.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { formatTileIndex } from '../src/core/tlog/tile-path.ts';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { createPostgresDatabase } from '../test/support/db.ts';
import { growLog } from '../test/support/synthetic-log.ts';
import { measure, pass, start, type Result } from './support.ts';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const BIN = fileURLToPath(new URL('../bin/modelsign.js', import.meta.url));
const BASELINE = fileURLToPath(new URL('./baseline-server.ts', import.meta.url));

// Every full tile of the tree: at level L, tile N is full when 256^L * 256 * (N + 1) <= size.
function fullTiles(size: number): string[] {
  const paths: string[] = [];
  for (let level = 0; 256 ** (level + 1) <= size; level++) {
    for (let n = 0; n < Math.floor(size / 256 ** (level + 1)); n++) paths.push(`/v1/log/tile/${level}/${formatTileIndex(n)}`);
  }
  return paths;
}

const stop = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode === null ? (child.once('exit', () => resolve()), child.kill('SIGTERM')) : resolve()));

const pg = await createPostgresDatabase();
const children: ChildProcess[] = [];
let ok = false;
try {
  const db = await openDatabase({ url: pg.url, poolSize: 4 });
  await migrate(db);
  const started = performance.now();
  await growLog(db, ENTRIES, 10_000);
  // The floor's table: each full level-0 tile of this log as one row.
  await db.query('CREATE TABLE bench_tiles ("idx" bigint PRIMARY KEY, "hashes" bytea NOT NULL)');
  await db.query('ALTER TABLE bench_tiles ALTER COLUMN "hashes" SET STORAGE EXTERNAL');
  await db.query(`INSERT INTO bench_tiles SELECT n."idx" / 256, string_agg(n."hash", ''::bytea ORDER BY n."idx") FROM "tlog_nodes" n WHERE n."level" = 0 AND n."idx" < $1::bigint GROUP BY n."idx" / 256`, [String(Math.floor(ENTRIES / 256) * 256)]);
  await db.query('VACUUM ANALYZE bench_tiles');
  await db.close();
  const paths = fullTiles(ENTRIES);
  console.log(`log of ${ENTRIES.toLocaleString('en')} entries made in ${((performance.now() - started) / 1000).toFixed(0)} s; ${paths.length} full tiles, drawn at random\n`);
  const randomTile = () => paths[Math.floor(Math.random() * paths.length)]!;
  const level0 = paths.filter((p) => p.startsWith('/v1/log/tile/0/'));
  const randomLevel0 = () => level0[Math.floor(Math.random() * level0.length)]!;
  const run = async (label: string, args: string[], env: Record<string, string>, floor = false): Promise<Result> => {
    const { child, base } = await start(args, env);
    children.push(child);
    // What any route of the service costs (its hooks: security headers, CORS, request ids, metrics, limits), for scale.
    if (floor) await measure('  the same service, GET /healthz', `${base}/healthz`, { method: 'GET' });
    const result = await measure(label, `${base}/v1/log/tile/0/000`, { method: 'GET', path: randomTile });
    await stop(child);
    return result;
  };
  // One KEK: both runs serve the same database, whose keys the first one made.
  const kek = randomBytes(32).toString('base64');
  const service = (cacheBytes: number) => ({ DATABASE_URL: pg.url, MODELSIGN_KEK: kek, LOG_LEVEL: 'warn', MODELSIGN_RATE_LIMIT_PUBLIC: '0', MODELSIGN_RATE_LIMIT_TOKEN: '0', MODELSIGN_TILE_CACHE_BYTES: String(cacheBytes) });
  const baseline = await run('bare route, 8 KiB from memory', ['--import', 'tsx', BASELINE], { DATABASE_URL: pg.url });
  const serve = [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), BIN, 'serve'];
  const warm = await run('tiles, cache 8 MiB (warm)', serve, service(8 * 1024 * 1024), true);
  const cold = await run('tiles, no cache (cold)', serve, service(0));
  // The floor: the bare server again, level-0 tiles from memory and then from one row each.
  const floorServer = await start(['--import', 'tsx', BASELINE], { DATABASE_URL: pg.url });
  children.push(floorServer.child);
  const memory0 = await measure('bare route, level 0, from memory', `${floorServer.base}/v1/log/tile/0/000`, { method: 'GET', path: randomLevel0 });
  const row0 = await measure('bare route, level 0, one row from PostgreSQL', `${floorServer.base}/db/tile/0/000`, { method: 'GET', path: () => randomLevel0().replace('/v1/log/', '/db/') });
  await stop(floorServer.child);
  if ([baseline, warm, cold, memory0, row0].some((r) => r.errors > 0 || r.non2xx > 0)) throw new Error('some requests failed');
  const ratio = warm.rps / baseline.rps;
  console.log(`\nwarm ${ratio.toFixed(2)}x the bare route (target >= 0.8: ${pass(ratio >= 0.8)}); cold ${(cold.rps / baseline.rps).toFixed(2)}x; p99 ${warm.p99} / ${cold.p99} ms against ${baseline.p99} ms`);
  console.log(`floor of a database read per request: ${(row0.rps / memory0.rps).toFixed(2)}x (a bare route reading one 8 KiB row by primary key, against the same route from memory); p99 ${row0.p99} ms against ${memory0.p99} ms`);
  ok = ratio >= 0.8;
} finally {
  for (const c of children) c.kill('SIGKILL');
  await pg.drop();
}
process.exitCode = ok ? 0 : 1;
