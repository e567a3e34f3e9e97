// SHA-256 of many files: a pool of worker threads (one per core, at most one per file), each
// reading its file in 4 MiB chunks into one reused buffer, so memory stays constant whatever
// the file sizes and the digest is OpenSSL's (node:crypto) at full speed. One file cannot be
// hashed in parallel (SHA-256 is sequential); many files are.
import { clientEnv } from '../config.ts';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ModelFile } from './model-files.ts';

// The worker is plain JavaScript given as text (eval) so that it runs the same under tsx, a
// build, or any loader: it needs nothing but node:fs and node:crypto.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
parentPort.on('message', ({ id, abs }) => {
  let fd;
  try {
    fd = openSync(abs, 'r');
    const hash = createHash('sha256');
    let size = 0;
    let unreported = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      size += n;
      unreported += n;
      if (unreported >= 64 * 1024 * 1024) { parentPort.postMessage({ id, progress: unreported }); unreported = 0; }
    }
    parentPort.postMessage({ id, progress: unreported, sha256: hash.digest('hex'), size });
  } catch (err) {
    parentPort.postMessage({ id, error: err.message, code: err.code });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

export interface HashedFile {
  path: string;
  sha256: string;
  size: number;
}

export class HashError extends Error {
  override readonly name = 'HashError';
}

export async function hashFiles(files: readonly ModelFile[], onProgress?: (bytes: number) => void): Promise<HashedFile[]> {
  if (files.length === 0) return [];
  const order = files.map((f, i) => ({ f, i })).sort((a, b) => b.f.size - a.f.size);
  const results: HashedFile[] = new Array(files.length);
  const workers = Array.from({ length: Math.min(availableParallelism(), files.length, 8) }, () => new Worker(WORKER, { eval: true }));
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const take = () => {
              const job = order[next++];
              if (!job) return resolve();
              worker.postMessage({ id: job.i, abs: job.f.abs });
            };
            worker.on('message', (m: { id: number; progress?: number; sha256?: string; size?: number; error?: string }) => {
              if (m.progress) onProgress?.(m.progress);
              if (m.error !== undefined) return reject(new HashError(`cannot read ${files[m.id]!.path}: ${m.error}`));
              if (m.sha256 !== undefined) {
                results[m.id] = { path: files[m.id]!.path, sha256: m.sha256, size: m.size! };
                take();
              }
            });
            worker.on('error', reject);
            take();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
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
