// `npm run bench:hash`: `modelsign hash` against `openssl dgst -sha256` on the same files, in
// one run: a 2 GiB file (target: >= 0.95x openssl's throughput), and a folder of 8 files of
// 256 MiB against openssl hashing them one after another (target: >= 1.7x on 2 cores), with
// modelsign's peak memory (target: <= 200 MB RSS, from GNU time's maxresident). Files are
// written once (random data) and read through the page cache by both tools; each figure is the
// median of BENCH_RUNS (default 5) paired whole-process runs, with user and system time, since
// system time is where reading costs show.
//
// Options (environment): BENCH_DIR (default the system temp folder), BENCH_RUNS.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/modelsign.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MiB = 1024 * 1024;

function writeRandom(file: string, bytes: number): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * MiB);
  for (let done = 0; done < bytes; done += chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, bytes - done));
  closeSync(fd);
}

interface Run {
  wall: number;
  user: number;
  sys: number;
  maxRssKiB: number;
}

/** One whole-process run: wall, user and system time (s) and peak RSS (KiB), from GNU time. */
function run(cmd: string, args: string[]): Run {
  const res = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 * MiB });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr}`);
  const [wall, user, sys, rss] = res.stderr.trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number, number];
  return { wall, user, sys, maxRssKiB: rss };
}

/**
 * Paired runs, openssl then modelsign, RUNS times: each pair sees the same machine state, so
 * the ratio of a pair means more than either time. Reports the median pair.
 */
function paired(label: string, bytes: number, a: [string, string[]], b: [string, string[]], speedup: (r: number) => number): { ratio: number; maxRssKiB: number } {
  const pairs: { ratio: number; a: Run; b: Run }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ra = run(...a);
    const rb = run(...b);
    pairs.push({ ratio: speedup(ra.wall / rb.wall), a: ra, b: rb });
  }
  pairs.sort((x, y) => x.ratio - y.ratio);
  const mid = pairs[Math.floor(pairs.length / 2)]!;
  const mbps = (s: number) => `${(bytes / MiB / s).toFixed(0)} MiB/s`;
  const line = (name: string, r: Run) => `  ${name.padEnd(10)} wall ${r.wall.toFixed(2)} s (${mbps(r.wall)}), user ${r.user.toFixed(2)} s, system ${r.sys.toFixed(2)} s, peak ${(r.maxRssKiB / 1024).toFixed(0)} MiB`;
  console.log(`${label} (median of ${RUNS} pairs; ratios ${pairs.map((p) => p.ratio.toFixed(2)).join(' ')})`);
  console.log(line('openssl', mid.a));
  console.log(line('modelsign', mid.b));
  return { ratio: mid.ratio, maxRssKiB: Math.max(...pairs.map((p) => p.b.maxRssKiB)) };
}

if (!existsSync('/usr/bin/time')) throw new Error('bench:hash needs GNU time (/usr/bin/time) for peak memory');
// Measure what users run: the prebuilt client commands, rebuilt here because an edited checkout
// would otherwise fall back to the TypeScript sources (and their 0.1 s of extra start-up).
const built = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build-cli.mjs', import.meta.url))], { stdio: 'inherit', cwd: fileURLToPath(new URL('..', import.meta.url)) });
if (built.status !== 0) throw new Error('could not build the client commands (scripts/build-cli.mjs)');
const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), 'modelsign-bench-hash-'));
let ok = true;
try {
  const big = path.join(dir, 'model-2g.safetensors');
  const folder = path.join(dir, 'shards');
  mkdirSync(folder);
  process.stdout.write('writing 2 GiB + 8 x 256 MiB of random data...\n');
  writeRandom(big, 2048 * MiB);
  const shards = Array.from({ length: 8 }, (_, i) => path.join(folder, `model-0000${i + 1}-of-00008.safetensors`));
  for (const s of shards) writeRandom(s, 256 * MiB);
  // Warm the page cache for both tools alike.
  run('openssl', ['dgst', '-sha256', big, ...shards]);

  const node = process.execPath;
  const one = paired('one 2 GiB file', 2048 * MiB, ['openssl', ['dgst', '-sha256', big]], [node, [BIN, 'hash', big, '--json']], (r) => r);
  const many = paired('8 x 256 MiB', 2048 * MiB, ['openssl', ['dgst', '-sha256', ...shards]], [node, [BIN, 'hash', folder, '--json']], (r) => r);
  const rssMB = (Math.max(one.maxRssKiB, many.maxRssKiB) * 1024) / 1e6;
  const pass = (b: boolean) => (b ? 'PASS' : 'FAIL');
  console.log(`\none file:     ${one.ratio.toFixed(2)}x openssl's speed (target >= 0.95: ${pass(one.ratio >= 0.95)})`);
  console.log(`8 files:      ${many.ratio.toFixed(2)}x openssl one after another (target >= 1.7 on 2 cores: ${pass(many.ratio >= 1.7)})`);
  console.log(`peak memory:  ${rssMB.toFixed(0)} MB RSS of modelsign hash (target <= 200: ${pass(rssMB <= 200)})`);
  ok = one.ratio >= 0.95 && many.ratio >= 1.7 && rssMB <= 200;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
