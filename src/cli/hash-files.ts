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
/** Shared counters: [next file index, stop flag]. */
const NEXT = 0;
const STOP = 1;

interface HashDeps {
  openSync: typeof openSync;
  readSync: typeof readSync;
  closeSync: typeof closeSync;
  createHash: typeof createHash;
}

// Runs on the main thread and, as its source text, in each worker: it must use nothing but its
// parameters (a bundler may rename module-level names).
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

// @types/node for Node 20 does not declare WebAssembly; this is the one constructor used.
declare const WebAssembly: { Memory: new (limits: { initial: number; maximum: number }) => { buffer: ArrayBuffer } };

function alignedBuffer(): Buffer {
  return Buffer.from(new WebAssembly.Memory({ initial: CHUNK / 65536, maximum: CHUNK / 65536 }).buffer);
}

// The worker is plain JavaScript given as text (eval) so that it runs the same under tsx, a
// build, or any loader.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const deps = { ...require('node:fs'), createHash: require('node:crypto').createHash };
const hashFileSync = ${hashFileSync.toString()};
const { files, counters, progress } = workerData;
const buffer = Buffer.from(new WebAssembly.Memory({ initial: ${CHUNK / 65536}, maximum: ${CHUNK / 65536} }).buffer);
const onBytes = (n) => { Atomics.add(progress, 0, BigInt(n)); };
for (let id = Atomics.add(counters, ${NEXT}, 1); id < files.length && Atomics.load(counters, ${STOP}) === 0; id = Atomics.add(counters, ${NEXT}, 1)) {
  try {
    parentPort.postMessage({ id, ...hashFileSync(files[id], buffer, deps, onBytes) });
  } catch (err) {
    Atomics.store(counters, ${STOP}, 1);
    parentPort.postMessage({ id, error: err.message });
  }
}
`;

export async function hashFiles(files: readonly ModelFile[], onProgress?: (bytes: number) => void): Promise<HashedFile[]> {
  if (files.length === 0) return [];
  const order = files.map((f, i) => ({ f, i })).sort((a, b) => b.f.size - a.f.size);
  const counters = new Int32Array(new SharedArrayBuffer(8));
  const progress = new BigInt64Array(new SharedArrayBuffer(8));
  const results: HashedFile[] = new Array(files.length);
  let failure: HashError | undefined;
  const done = (id: number, r: { sha256: string; size: number }) => {
    const f = files[order[id]!.i]!;
    results[order[id]!.i] = { path: f.path, sha256: r.sha256, size: r.size };
  };
  const fail = (id: number, message: string) => {
    Atomics.store(counters, STOP, 1);
    failure ??= new HashError(`cannot read ${files[order[id]!.i]!.path}: ${message}`);
  };
  let reported = 0n;
  const report = () => {
    const now = Atomics.load(progress, 0);
    if (now > reported) onProgress?.(Number(now - reported));
    reported = now;
  };
  const workerCount = Math.min(availableParallelism(), files.length, 8) - 1;
  const workerData = { files: order.map((o) => o.f.abs), counters, progress };
  const workers = Array.from({ length: workerCount }, () => new Worker(WORKER, { eval: true, workerData }));
  const finished = workers.map(
    (worker) =>
      new Promise<void>((resolve) => {
        worker.on('message', (m: { id: number; sha256?: string; size?: number; error?: string }) => {
          if (m.error !== undefined) fail(m.id, m.error);
          else done(m.id, { sha256: m.sha256!, size: m.size! });
        });
        worker.on('error', (err) => {
          Atomics.store(counters, STOP, 1);
          failure ??= new HashError(`hashing failed: ${err.message}`);
          resolve();
        });
        worker.on('exit', () => resolve());
      }),
  );
  const timer = onProgress && workerCount > 0 ? setInterval(report, 100) : undefined;
  try {
    const buffer = alignedBuffer();
    const deps = { openSync, readSync, closeSync, createHash };
    const onBytes = (n: number) => {
      Atomics.add(progress, 0, BigInt(n));
      report();
    };
    for (let id = Atomics.add(counters, NEXT, 1); id < files.length && Atomics.load(counters, STOP) === 0; id = Atomics.add(counters, NEXT, 1)) {
      try {
        done(id, hashFileSync(order[id]!.f.abs, buffer, deps, onBytes));
      } catch (err) {
        fail(id, (err as Error).message);
      }
    }
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
