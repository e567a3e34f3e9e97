// `npm run bench:mirror`: `modelsign log mirror` against copying what it writes, in one run.
// The source is a 1,000,000-entry C2SP tiles log (leaves of 48 to 111 bytes, as the tiles bench's
// synthetic log) written straight into a folder (test/support/tiles-folder.ts) and served by
// Debian's nginx with the README's configuration (or, without nginx, a plain Node static server).
// - first mirror: the whole `modelsign log mirror --from URL --vkey KEY` process (fetch, check,
//   write) against `cp -r` of the folder it wrote; target <= 3x;
// - 1,000 new entries: the second run's own time (as it prints it: from reading the checkpoint to
//   writing it, the process start excluded) against writing the same new files alone in this
//   process; target <= 2x. The whole second process is printed beside it.
// Beside each, the same ratio against a mirror that checks nothing (the same files read with the
// mirror's own reader, 16 at a time, and written with its writer, in this process, against the
// mirror's own printed time): what the checks cost.
// Each measure is the median of BENCH_RUNS (3) runs, the page cache warm for both sides.
// Nothing is deleted until the end: after a folder of thousands of files is deleted, ext4 on these
// machines creates files up to ten times slower for a while (a kernel profile of `cp -r` spent
// three quarters of its time in the inode allocator's recently_deleted scan), which would slow whichever side came
// next. A second bench within five minutes of the last one's clean-up is slowed the same way.
//
// Options (environment): BENCH_ENTRIES (default 1000000), BENCH_RUNS (3), BENCH_DIR (the folder
// both sides write in; the system's temporary folder by default; /dev/shm takes the disk out).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TilesSource } from '../src/cli/tiles-source.ts';
import { nodeSigner } from '../src/services/key-backends/node-keys.ts';
import { inPool, MIRROR_CONCURRENCY, writeMirrorFiles } from '../src/services/tiles-mirror.ts';
import { nginxSkip, startNginx } from '../test/support/nginx.ts';
import { serveFolder } from '../test/support/tiles.ts';
import { writeTilesFolder } from '../test/support/tiles-folder.ts';
import { median } from './support.ts';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BIN = fileURLToPath(new URL('../bin/modelsign.js', import.meta.url));
const ORIGIN = 'bench.modelsign.test/mirror';

const work = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), 'modelsign-bench-mirror-'));
// nginx's workers run as nobody: they must enter the folder (mkdtemp makes it 0700).
chmodSync(work, 0o755);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

// Leaf i is the same bytes in every source, so the larger source extends the smaller one.
const leaf = (i: number) => {
  const seed = createHash('sha256').update(String(i)).digest();
  return new Uint8Array(Buffer.concat([seed, seed, seed, seed]).subarray(0, 48 + (i % 64)));
};

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
const signer = nodeSigner('bench', { algorithm: 'Ed25519', publicKey: raw }, privateKey);

function timed(command: string, args: string[]): { ms: number; stdout: string } {
  const t0 = performance.now();
  const res = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env } });
  const ms = performance.now() - t0;
  if (res.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${res.stderr}`);
  return { ms, stdout: res.stdout };
}

/** A mirror that checks nothing: the same reader and writer as the mirror's, 16 reads at a time, then the writes. */
async function naiveCopy(url: string, rels: string[], out: string): Promise<number> {
  const t0 = performance.now();
  const source = new TilesSource(url);
  const read = await inPool(rels, MIRROR_CONCURRENCY, async (rel) => [path.join(out, rel), await source.bytes(rel)] as const);
  await writeMirrorFiles(read);
  return performance.now() - t0;
}

const printedMs = (stdout: string): number => {
  const m = /: \d+ files written \(\d+ KiB\) in ([\d.]+) s/.exec(stdout);
  if (!m) throw new Error(`unexpected output: ${stdout}`);
  return Number(m[1]) * 1000;
};

async function serve(dir: string): Promise<{ url: string; stop(): void }> {
  if (!nginxSkip) return startNginx(dir);
  const { server, url } = await serveFolder(dir);
  return { url, stop: () => server.close() };
}

const servers: { stop(): void }[] = [];
try {
  console.log(`# bench:mirror: ${ENTRIES.toLocaleString('en')} entries, then ${(1000).toLocaleString('en')} more; ${RUNS} runs each; served by ${nginxSkip ? 'a Node static server (no nginx here)' : 'nginx'}`);
  const small = path.join(work, 'source-1');
  const large = path.join(work, 'source-2');
  let t0 = performance.now();
  const { vkey } = await writeTilesFolder(small, { origin: ORIGIN, size: ENTRIES, leaf, signer });
  await writeTilesFolder(large, { origin: ORIGIN, size: ENTRIES + 1000, leaf, signer });
  console.log(`# sources written in ${seconds(performance.now() - t0)}`);
  const first = await serve(small);
  const second = await serve(large);
  servers.push(first, second);

  // First mirror against cp -r of what it wrote.
  const mirrorTimes: number[] = [];
  const ownTimes: number[] = [];
  const naiveTimes: number[] = [];
  const copyTimes: number[] = [];
  let out = '';
  for (let r = 0; r < RUNS; r++) {
    out = path.join(work, `mirror-${r}`);
    const m = timed(process.execPath, [BIN, 'log', 'mirror', '--out', out, '--from', first.url, '--vkey', vkey]);
    mirrorTimes.push(m.ms);
    ownTimes.push(printedMs(m.stdout));
    if (r === 0) console.log(`# ${m.stdout.trim()}`);
    const rels = execFileSync('find', ['.', '-type', 'f', '!', '-name', 'vkey'], { cwd: out }).toString().trim().split('\n').map((f) => f.slice(2));
    const naive = path.join(work, `naive-${r}`);
    naiveTimes.push(await naiveCopy(first.url, rels, naive));
    const copy = path.join(work, `copy-${r}`);
    copyTimes.push(timed('cp', ['-r', out, copy]).ms);
  }
  const files = Number(execFileSync('find', [out, '-type', 'f']).toString().trim().split('\n').length);
  const firstRatio = median(mirrorTimes) / median(copyTimes);
  console.log(`first mirror (${files} files): ${seconds(median(mirrorTimes))}; cp -r: ${seconds(median(copyTimes))}; ratio ${firstRatio.toFixed(2)}x (target <= 3x)`);
  console.log(`  its own time ${seconds(median(ownTimes))} against fetching and writing the same files unchecked ${seconds(median(naiveTimes))}: ${(median(ownTimes) / median(naiveTimes)).toFixed(2)}x`);

  // 1,000 new entries: the second run, against writing its new files alone.
  const runTimes: number[] = [];
  const processTimes: number[] = [];
  const writeTimes: number[] = [];
  const naiveIncTimes: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const dir = path.join(work, `incremental-${r}`);
    execFileSync('cp', ['-r', out, dir]);
    const before = new Set(execFileSync('find', [dir, '-type', 'f']).toString().trim().split('\n'));
    const m = timed(process.execPath, [BIN, 'log', 'mirror', '--out', dir, '--from', second.url]);
    processTimes.push(m.ms);
    runTimes.push(printedMs(m.stdout));
    if (r === 0) console.log(`# ${m.stdout.trim()}`);
    const added = execFileSync('find', [dir, '-type', 'f']).toString().trim().split('\n').filter((f) => !before.has(f) || f.endsWith('/checkpoint'));
    const contents = added.map((f) => [f, readFileSync(f)] as const);
    const target = path.join(work, `written-${r}`);
    t0 = performance.now();
    for (const [f, bytes] of contents) {
      const to = path.join(target, path.relative(dir, f));
      mkdirSync(path.dirname(to), { recursive: true });
      writeFileSync(to, bytes);
    }
    writeTimes.push(performance.now() - t0);
    naiveIncTimes.push(await naiveCopy(second.url, added.map((f) => path.relative(dir, f)), `${target}-fetched`));
    if (r === 0) console.log(`# new files: ${added.length} (with the checkpoint)`);
  }
  const incRatio = median(runTimes) / median(writeTimes);
  console.log(`1,000 new entries: the mirror run ${seconds(median(runTimes))} (the whole process ${seconds(median(processTimes))}); writing its files alone: ${seconds(median(writeTimes))}; ratio ${incRatio.toFixed(2)}x (target <= 2x)`);
  console.log(`  against fetching and writing the same files unchecked ${seconds(median(naiveIncTimes))}: ${(median(runTimes) / median(naiveIncTimes)).toFixed(2)}x`);
} finally {
  // A failed run must not leave nginx running.
  for (const server of servers) server.stop();
  rmSync(work, { recursive: true, force: true });
}
