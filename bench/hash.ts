// `npm run bench:hash`: `modelsign hash` against `openssl dgst -sha256` on the same files, in
// one run: a 2 GiB file (target: >= 0.95x openssl's throughput), and a folder of 8 files of
// 256 MiB against openssl hashing them one after another (target: >= 1.7x on 2 cores), with
// modelsign's peak memory (target: <= 200 MB RSS, from GNU time's maxresident). Files are
// written once (random data) and read through the page cache by both tools; each figure is the
// median of BENCH_RUNS (default 5) paired whole-process runs, with user and system time, since
// system time is where reading costs show.
//
// Then the content check (core/scan), which `hash`, `scan`, `sign`, `verify` and `audit` run in
// the hashing pass, against the same work without it, in this process: `verify` of a folder with
// a 2 GiB safetensors file and 8 x 256 MiB ones (target: <= 1.1x the time without the check),
// and hashing a 1 GiB PyTorch zip (torch's own layout) with and without the check (target: <= 1.2x;
// the command that checks it peaks at <= 200 MB RSS), and a 70 MB one judged like any other.
//
// Options (environment): BENCH_DIR (default the system temp folder), BENCH_RUNS.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { hashFiles } from '../src/cli/hash-files.ts';
import { listModel } from '../src/cli/model-files.ts';
import { loadTrust } from '../src/cli/trust.ts';
import { verifyModel } from '../src/cli/verify-model.ts';
import { spkiPem } from '../src/core/crypto/public-key.ts';
import { testSigner } from '../test/support/bundles.ts';
import { writeLargeStateDict } from '../test/support/crafted-content.ts';

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
  const checks = await contentCheckCost(dir);
  ok &&= checks;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;

/** A safetensors file of `bytes` in all: one U8 tensor of random bytes after a real header. */
function writeSafetensors(file: string, bytes: number): void {
  const header = JSON.stringify({ __metadata__: { format: 'pt' }, w: { dtype: 'U8', shape: [bytes - 8 - 256], data_offsets: [0, bytes - 8 - 256] } }).padEnd(256, ' ');
  const fd = openSync(file, 'w');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(256n);
  writeSync(fd, length);
  writeSync(fd, Buffer.from(header));
  const chunk = Buffer.alloc(16 * MiB);
  for (let done = 264; done < bytes; done += chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, bytes - done));
  closeSync(fd);
}

/** Median of paired, alternating timings: [without, with] per pair, as a ratio. */
async function pairedInProcess(label: string, without: () => Promise<unknown>, withCheck: () => Promise<unknown>): Promise<number> {
  const ratios: number[] = [];
  const times: [number, number][] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await without();
    const t1 = performance.now();
    await withCheck();
    const t2 = performance.now();
    ratios.push((t2 - t1) / (t1 - t0));
    times.push([t1 - t0, t2 - t1]);
  }
  const order = ratios.map((r, i) => [r, i] as const).sort((a, b) => a[0] - b[0]);
  const [ratio, at] = order[Math.floor(order.length / 2)]!;
  console.log(`${label} (median of ${RUNS} pairs; ratios ${ratios.map((r) => r.toFixed(2)).join(' ')})`);
  console.log(`  without the check ${(times[at]![0] / 1000).toFixed(2)} s, with it ${(times[at]![1] / 1000).toFixed(2)} s`);
  return ratio;
}

async function contentCheckCost(root: string): Promise<boolean> {
  process.stdout.write('\nwriting a model folder (2 GiB + 8 x 256 MiB safetensors) and a 1 GiB PyTorch zip...\n');
  const model = path.join(root, 'checked');
  mkdirSync(model);
  writeSafetensors(path.join(model, 'model.safetensors'), 2048 * MiB);
  for (let i = 1; i <= 8; i++) writeSafetensors(path.join(model, `shard-0000${i}-of-00008.safetensors`), 256 * MiB);
  const listing = await listModel(model, { allowSymlinks: false, ignorePaths: ['model.sig'] });
  const signer = testSigner();
  const files = await hashFiles(listing.files);
  writeFileSync(path.join(model, 'model.sig'), JSON.stringify(signer.sign('acme/bench', '1.0', files, ['model.sig'])));
  const pem = path.join(root, 'release.pem');
  writeFileSync(pem, spkiPem({ algorithm: 'Ed25519', publicKey: signer.publicKey }));
  const trust = await loadTrust({ key: pem });
  const verify = (check: boolean) => async () => {
    const report = await verifyModel(model, { trust, allowSymlinks: false }, { hash: (f) => hashFiles(f, undefined, { check }) });
    if (report.outcome !== 'verified') throw new Error(`the bench model does not verify: ${JSON.stringify(report.reasons)}`);
  };
  await verify(true)(); // warm the page cache
  const folder = await pairedInProcess('verify, 2 GiB + 8 x 256 MiB safetensors', verify(false), verify(true));

  // PyTorch's own layout (test/support/torch-zip.ts, checked byte for byte against torch.save's
  // output): the members of a state dict torch 2.13 wrote, its first tensor grown to 1 GiB, every
  // local header with flag 0x0808 and the sizes only in data descriptors, as real checkpoints are.
  const torchZip = (name: string, bytes: number) => {
    const file = path.join(root, name);
    writeLargeStateDict(file, bytes, 7);
    return file;
  };
  const zip = torchZip('model.pt', 1024 * MiB);
  const small = torchZip('model-70m.pt', 70 * MiB);
  const asFile = async (file: string) => [{ path: path.basename(file), abs: file, size: (await listModel(file, { allowSymlinks: false, ignorePaths: [] })).files[0]!.size }];
  const zipFile = await asFile(zip);
  const verdicts = [(await hashFiles(zipFile, undefined, { check: true }))[0]!.content!, (await hashFiles(await asFile(small), undefined, { check: true }))[0]!.content!];
  for (const v of verdicts) if (v.verdict !== 'allowlisted-pickle') throw new Error(`a torch-layout zip was judged ${JSON.stringify(v)}`);
  console.log('the 1 GiB and the 70 MB torch-layout zips: allowlisted-pickle');
  const zipRatio = await pairedInProcess('hash a 1 GiB PyTorch zip', () => hashFiles(zipFile, undefined, { check: false }), () => hashFiles(zipFile, undefined, { check: true }));
  // Peak memory of the whole command that checks it (the directory is read first, then the stream).
  const scanned = run(process.execPath, [BIN, 'scan', zip, '--json']);
  const zipRssMB = (scanned.maxRssKiB * 1024) / 1e6;
  const pass = (b: boolean) => (b ? 'PASS' : 'FAIL');
  console.log(`\nverify with the content check: ${folder.toFixed(3)}x the time without it (target <= 1.1: ${pass(folder <= 1.1)})`);
  console.log(`checking a 1 GiB PyTorch zip: ${zipRatio.toFixed(3)}x hashing it alone (target <= 1.2: ${pass(zipRatio <= 1.2)})`);
  console.log(`peak memory:  ${zipRssMB.toFixed(0)} MB RSS of modelsign scan on it (target <= 200: ${pass(zipRssMB <= 200)})`);
  return folder <= 1.1 && zipRatio <= 1.2 && zipRssMB <= 200;
}
