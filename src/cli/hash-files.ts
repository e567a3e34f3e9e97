// SHA-256 of many files, on every core: the main thread and up to (cores - 1) worker threads
// take files from one shared counter (hash-share.ts), so nobody waits for a message to get
// work, and a single file is hashed on the main thread with no worker at all (starting one
// costs about 45 ms, 2-3% of hashing a 2 GiB file). Each reader reuses one page-aligned 1 MiB
// buffer, so memory stays constant whatever the file sizes, and the digest is OpenSSL's
// (node:crypto). One file cannot be hashed in parallel (SHA-256 is sequential); many files are.
// With `check`, each file also goes through the content check in the same read.
import { clientEnv } from '../config.ts';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ContentReport } from '../core/scan/verdict.ts';
import { alignedBuffer, CHUNK, hashShare, type Hashed } from './hash-share.ts';
import type { ModelFile } from './model-files.ts';

export interface HashedFile {
  path: string;
  sha256: string;
  size: number;
  /** The content check's verdict, when it was asked for. */
  content?: ContentReport;
}

export class HashError extends Error {
  override readonly name = 'HashError';
}

// Workers run hash-worker.ts: from source through tsx (registered in each worker: a loader
// given to the parent, by --import or register(), does not always reach a worker), or prebuilt
// beside the bundled client commands.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_MODULE = new URL(FROM_SOURCE ? './hash-worker.ts' : './modelsign-hash-worker.mjs', import.meta.url).href;
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.module);
})();
`;

function tsxLoader(): string | undefined {
  if (!FROM_SOURCE) return undefined;
  return import.meta.resolve('tsx/esm/api');
}

export async function hashFiles(files: readonly ModelFile[], onProgress?: (bytes: number) => void, options: { check?: boolean } = {}): Promise<HashedFile[]> {
  const check = options.check === true;
  if (files.length === 0) return [];
  const order = files.map((f, i) => ({ f, i })).sort((a, b) => b.f.size - a.f.size);
  const shares = order.map((o) => ({ abs: o.f.abs, name: o.f.path }));
  const counters = new Int32Array(new SharedArrayBuffer(8));
  const progress = new BigInt64Array(new SharedArrayBuffer(8));
  const results: HashedFile[] = new Array(files.length);
  let failure: HashError | undefined;
  const onHashed = (id: number, result: Hashed) => {
    const f = files[order[id]!.i]!;
    if ('error' in result) failure ??= new HashError(`cannot read ${f.path}: ${result.error}`);
    else results[order[id]!.i] = { path: f.path, ...result };
  };
  let reported = 0n;
  const report = () => {
    const now = Atomics.load(progress, 0);
    if (now > reported) onProgress?.(Number(now - reported));
    reported = now;
  };
  const workerCount = Math.min(availableParallelism(), files.length, 8) - 1;
  const workers = Array.from({ length: workerCount }, () => new Worker(BOOT, { eval: true, workerData: { files: shares, check, counters, progress, module: WORKER_MODULE, tsx: tsxLoader() } }));
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
    hashShare(shares, check, counters, alignedBuffer(CHUNK), onBytes, onHashed);
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
