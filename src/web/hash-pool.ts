// Hashes files in Web Workers, one per core (at most four: the disk is the limit beyond that),
// largest files first so the workers finish together. Cancel stops every worker at once.
import type { FileCheckResult } from '../core/file-check.ts';
import type { FromWorker, ToWorker } from './hash-protocol.ts';
import type { HasherKind } from './sha256.ts';

export interface Picked {
  /** Relative POSIX path within what was picked (a file's name, or its path in the folder). */
  path: string;
  file: File;
}

export type Hashed = Picked & ({ result: FileCheckResult; error?: undefined } | { result?: undefined; error: string });

export interface HashProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  elapsedMs: number;
  /** The SHA-256 the workers run, once the first says (the fallback, with why, if any fell back). */
  hasher?: HasherKind;
}

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export class HashPool {
  private workers: Worker[] = [];
  /** Which SHA-256 the last run used (see HashProgress.hasher). */
  hasher: HasherKind | undefined;
  private cancel: (() => void) | undefined;

  constructor(private readonly workerUrl: string) {}

  run(files: readonly Picked[], onProgress: (p: HashProgress) => void): Promise<Hashed[]> {
    const order = files.map((f, i) => ({ f, i })).sort((a, b) => b.f.file.size - a.f.file.size);
    const out: Hashed[] = new Array(files.length);
    const progress: HashProgress = { bytesDone: 0, bytesTotal: files.reduce((n, f) => n + f.file.size, 0), filesDone: 0, filesTotal: files.length, elapsedMs: 0 };
    const started = performance.now();
    const size = Math.max(1, Math.min(files.length, navigator.hardwareConcurrency || 2, 4));
    return new Promise<Hashed[]>((resolve, reject) => {
      let next = 0;
      this.cancel = () => {
        this.stop();
        reject(new Cancelled());
      };
      const give = (worker: Worker) => {
        const job = order[next++];
        if (!job) return;
        worker.postMessage({ id: job.i, path: job.f.path, file: job.f.file } satisfies ToWorker);
      };
      for (let w = 0; w < size; w++) {
        const worker = new Worker(this.workerUrl, { type: 'module', name: `modelsign-hash-${w}` });
        this.workers.push(worker);
        worker.onmessage = (event: MessageEvent<FromWorker>) => {
          const m = event.data;
          progress.elapsedMs = performance.now() - started;
          if (m.type === 'hasher') {
            if (progress.hasher?.kind !== 'noble') progress.hasher = m.kind === 'wasm' ? { kind: 'wasm' } : { kind: 'noble', reason: m.reason };
            this.hasher = progress.hasher;
            return;
          }
          if (m.type === 'progress') {
            progress.bytesDone += m.bytes;
            onProgress({ ...progress });
            return;
          }
          out[m.id] = m.type === 'done' ? { ...files[m.id]!, result: m.result } : { ...files[m.id]!, error: m.message };
          progress.filesDone++;
          onProgress({ ...progress });
          if (progress.filesDone === files.length) {
            this.stop();
            resolve(out);
          } else give(worker);
        };
        worker.onerror = (event) => {
          event.preventDefault();
          this.stop();
          reject(new Error(`a hashing worker failed: ${event.message || 'it could not start'}`));
        };
        give(worker);
      }
    });
  }

  /** Stops the run in progress; its promise rejects with Cancelled. */
  abort(): void {
    this.cancel?.();
  }

  private stop(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
    this.cancel = undefined;
  }
}

/** "1.2 GB of 3.4 GB, 52 MB/s, 41 s left". */
export function describeProgress(p: HashProgress): string {
  const mb = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);
  const rate = p.elapsedMs > 0 ? p.bytesDone / (p.elapsedMs / 1000) : 0;
  const left = rate > 0 ? Math.ceil((p.bytesTotal - p.bytesDone) / rate) : undefined;
  const files = p.filesTotal > 1 ? `, file ${Math.min(p.filesDone + 1, p.filesTotal)} of ${p.filesTotal}` : '';
  const slow = p.hasher?.kind === 'noble' ? ' (SHA-256 in JavaScript: WebAssembly is not available here)' : '';
  return `${mb(p.bytesDone)} of ${mb(p.bytesTotal)}${files}, ${(rate / 1e6).toFixed(0)} MB/s${left === undefined ? '' : `, ${left} s left`}${slow}`;
}
