// SHA-256 of many files, on every core: the main thread and up to (cores - 1) worker threads
// take files from one shared counter (largest first), so nobody waits for a message to get
// work, and a single file is hashed on the main thread with no worker at all (starting one
// costs about 45 ms, 2-3% of hashing a 2 GiB file). Each reader reuses one 1 MiB buffer, so
// memory stays constant whatever the file sizes, and the digest is OpenSSL's (node:crypto).
// One file cannot be hashed in parallel (SHA-256 is sequential); many files are.
//
// The read buffer is page-aligned, and that is most of the speed. A Buffer of more than 128 KiB
// comes from glibc's mmap path and starts 16 bytes into a page; the kernel's copy from the page
// cache into such a buffer (`_copy_to_iter`, `rep movsb`) ran at a third of its aligned speed on
// these machines: 1.3 s of system time per 2 GiB against openssl's 0.4 s (perf record;
// bench/hash.ts). Node cannot ask for an aligned Buffer, but a WebAssembly.Memory is an mmap
// reservation of its own and so starts on a page boundary.
import { clientEnv } from '../config.ts';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ModelFile } from './model-files.ts';

export interface HashedFile {
  path: string;
  sha256: string;
  size: number;
}

export class HashError extends Error {
  override readonly name = 'HashError';
}

const CHUNK = 1024 * 1024;

interface HashDeps {
  openSync: typeof openSync;
  readSync: typeof readSync;
  closeSync: typeof closeSync;
  createHash: typeof createHash;
}

type Hashed = { sha256: string; size: number } | { error: string };

// The three functions below run on the main thread and, as their source text, in each worker:
// they must use nothing but their parameters and globals (a bundler may rename module names).

function hashFileSync(abs: string, buffer: Buffer, deps: HashDeps, onBytes: (n: number) => void): { sha256: string; size: number } {
  const fd = deps.openSync(abs, 'r');
  try {
    const hash = deps.createHash('sha256');
    let size = 0;
    for (;;) {
      const n = deps.readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      size += n;
      onBytes(n);
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    deps.closeSync(fd);
  }
}

/**
 * Hashes files taken from the shared counters (`counters[0]`: the next index; `counters[1]`: set
 * to stop everyone after a failure) until none is left, reporting each to `onHashed`.
 */
function hashShare(paths: readonly string[], counters: Int32Array, hashFile: typeof hashFileSync, buffer: Buffer, deps: HashDeps, onBytes: (n: number) => void, onHashed: (id: number, result: Hashed) => void): void {
  for (let id = Atomics.add(counters, 0, 1); id < paths.length && Atomics.load(counters, 1) === 0; id = Atomics.add(counters, 0, 1)) {
    let result: Hashed;
    try {
      result = hashFile(paths[id]!, buffer, deps, onBytes);
    } catch (err) {
      Atomics.store(counters, 1, 1);
      result = { error: (err as Error).message };
    }
    onHashed(id, result);
  }
}

// @types/node for Node 20 does not declare WebAssembly; this is the one constructor used.
declare const WebAssembly: { Memory: new (limits: { initial: number; maximum: number }) => { buffer: ArrayBuffer } };

/** `bytes` (a multiple of 64 KiB) of page-aligned memory: see the header. */
function alignedBuffer(bytes: number): Buffer {
  return Buffer.from(new WebAssembly.Memory({ initial: bytes / 65536, maximum: bytes / 65536 }).buffer);
}

// The worker is plain JavaScript given as text (eval) so that it runs the same under tsx, a
// build, or any loader.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const deps = { ...require('node:fs'), createHash: require('node:crypto').createHash };
const hashFileSync = ${hashFileSync.toString()};
const hashShare = ${hashShare.toString()};
const alignedBuffer = ${alignedBuffer.toString()};
const { paths, counters, progress } = workerData;
hashShare(paths, counters, hashFileSync, alignedBuffer(${CHUNK}), deps, (n) => Atomics.add(progress, 0, BigInt(n)), (id, result) => parentPort.postMessage({ id, ...result }));
`;

export async function hashFiles(files: readonly ModelFile[], onProgress?: (bytes: number) => void): Promise<HashedFile[]> {
  if (files.length === 0) return [];
  const order = files.map((f, i) => ({ f, i })).sort((a, b) => b.f.size - a.f.size);
  const paths = order.map((o) => o.f.abs);
  const counters = new Int32Array(new SharedArrayBuffer(8));
  const progress = new BigInt64Array(new SharedArrayBuffer(8));
  const results: HashedFile[] = new Array(files.length);
  let failure: HashError | undefined;
  const onHashed = (id: number, result: Hashed) => {
    const f = files[order[id]!.i]!;
    if ('error' in result) failure ??= new HashError(`cannot read ${f.path}: ${result.error}`);
    else results[order[id]!.i] = { path: f.path, sha256: result.sha256, size: result.size };
  };
  let reported = 0n;
  const report = () => {
    const now = Atomics.load(progress, 0);
    if (now > reported) onProgress?.(Number(now - reported));
    reported = now;
  };
  const workerCount = Math.min(availableParallelism(), files.length, 8) - 1;
  const workers = Array.from({ length: workerCount }, () => new Worker(WORKER, { eval: true, workerData: { paths, counters, progress } }));
  const finished = workers.map(
    (worker) =>
      new Promise<void>((resolve) => {
        worker.on('message', ({ id, ...result }: { id: number } & Hashed) => onHashed(id, result));
        worker.on('error', (err) => {
          Atomics.store(counters, 1, 1);
          failure ??= new HashError(`hashing failed: ${err.message}`);
          resolve();
        });
        worker.on('exit', () => resolve());
      }),
  );
  const timer = onProgress && workerCount > 0 ? setInterval(report, 100) : undefined;
  try {
    const onBytes = (n: number) => {
      Atomics.add(progress, 0, BigInt(n));
      report();
    };
    hashShare(paths, counters, hashFileSync, alignedBuffer(CHUNK), { openSync, readSync, closeSync, createHash }, onBytes, onHashed);
    await Promise.all(finished);
  } finally {
    if (timer) clearInterval(timer);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  report();
  if (failure) throw failure;
  return results;
}

/**
 * A progress line on stderr, only on a terminal and only once the work has taken a second
 * (MODELSIGN_PROGRESS_AFTER_MS changes the second, e.g. to 0 to always show it).
 */
export function progressReporter(total: number, label: string): { add(bytes: number): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  const after = clientEnv().progressAfterMs;
  const started = Date.now();
  let done = 0;
  let shown = false;
  let last = 0;
  const gib = (n: number) => `${(n / 1024 ** 3).toFixed(2)} GiB`;
  const draw = () => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = done / 1024 ** 2 / Math.max(elapsed, 0.001);
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    const width = 24;
    const bar = '#'.repeat(Math.floor((pct / 100) * width)).padEnd(width, '.');
    process.stderr.write(`\r${label} [${bar}] ${pct}%  ${gib(done)} / ${gib(total)}  ${rate.toFixed(0)} MiB/s`);
    shown = true;
  };
  return {
    add(bytes) {
      done += bytes;
      const now = Date.now();
      if (tty && now - started >= after && now - last > 100) {
        last = now;
        draw();
      }
    },
    done() {
      if (shown) {
        draw();
        process.stderr.write('\n');
      }
    },
  };
}
