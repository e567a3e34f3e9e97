// `npm run bench:hash`: `modelsign hash` against `openssl dgst -sha256` on the same files, in
// one run: a 2 GiB file (target: >= 0.9x openssl's throughput), and a folder of
// 8 files of 256 MiB against openssl hashing them one after another (target: >= 1.6x on 2
// cores), with modelsign's peak memory (target: <= 200 MB RSS, from GNU time's maxresident).
// Files are written once (random data) and read through the page cache by both tools; each
// measurement is the best of BENCH_RUNS (default 3).
//
// Options (environment): BENCH_DIR (default the system temp folder), BENCH_RUNS.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/modelsign.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MiB = 1024 * 1024;

function writeRandom(file: string, bytes: number): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * MiB);
  for (let done = 0; done < bytes; done += chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, bytes - done));
  closeSync(fd);
}

/** Wall time (s) and peak RSS (KiB) of a command, best of RUNS. */
function measure(cmd: string, args: string[]): { seconds: number; maxRssKiB: number } {
  let best = { seconds: Infinity, maxRssKiB: 0 };
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const res = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 * MiB });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr}`);
    const rss = Number(res.stderr.trim().split('\n').at(-1));
    if (seconds < best.seconds) best = { seconds, maxRssKiB: Math.max(best.maxRssKiB, rss) };
    else best.maxRssKiB = Math.max(best.maxRssKiB, rss);
  }
  return best;
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
  measure('openssl', ['dgst', '-sha256', big, ...shards]);

  const node = process.execPath;
  const openssl1 = measure('openssl', ['dgst', '-sha256', big]);
  const ours1 = measure(node, [BIN, 'hash', big, '--json']);
  const opensslN = measure('openssl', ['dgst', '-sha256', ...shards]);
  const oursN = measure(node, [BIN, 'hash', folder, '--json']);
  const single = openssl1.seconds / ours1.seconds;
  const many = opensslN.seconds / oursN.seconds;
  const rssMB = (Math.max(ours1.maxRssKiB, oursN.maxRssKiB) * 1024) / 1e6;
  const mbps = (bytes: number, s: number) => `${(bytes / MiB / s).toFixed(0)} MiB/s`;
  const pass = (b: boolean) => (b ? 'PASS' : 'FAIL');
  console.log(`\n2 GiB file:       openssl ${openssl1.seconds.toFixed(2)} s (${mbps(2048 * MiB, openssl1.seconds)}), modelsign ${ours1.seconds.toFixed(2)} s (${mbps(2048 * MiB, ours1.seconds)})`);
  console.log(`  throughput ratio ${single.toFixed(2)}x openssl (target >= 0.9: ${pass(single >= 0.9)})`);
  console.log(`8 x 256 MiB:      openssl one after another ${opensslN.seconds.toFixed(2)} s, modelsign ${oursN.seconds.toFixed(2)} s`);
  console.log(`  speed-up ${many.toFixed(2)}x (target >= 1.6 on 2 cores: ${pass(many >= 1.6)})`);
  console.log(`peak memory of modelsign hash: ${rssMB.toFixed(0)} MB RSS (target <= 200: ${pass(rssMB <= 200)})`);
  ok = single >= 0.9 && many >= 1.6 && rssMB <= 200;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
