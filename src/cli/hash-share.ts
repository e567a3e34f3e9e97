// The hashing loop shared by the main thread and the hashing workers (hash-worker.ts): files are
// taken from one shared counter (largest first) until none is left, each read once through a
// reused, page-aligned 1 MiB buffer into SHA-256 and, when asked, the content check
// (core/scan), so the verdict is on exactly the bytes that were hashed.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ContentCheck, readAhead } from '../core/scan/classify.ts';
import type { ContentReport } from '../core/scan/verdict.ts';

export const CHUNK = 1024 * 1024;

export interface ShareFile {
  /** What to open. */
  abs: string;
  /** The manifest path (the content check reads its extension). */
  name: string;
}

export type Hashed = { sha256: string; size: number; content?: ContentReport } | { error: string };

export function hashFileSync(file: ShareFile, buffer: Buffer, check: boolean, onBytes: (n: number) => void): { sha256: string; size: number; content?: ContentReport } {
  const fd = openSync(file.abs, 'r');
  try {
    const hash = createHash('sha256');
    const content = check ? new ContentCheck(file.name, fstatSync(fd).size) : undefined;
    // A zip's end records and directory first, by position (small: the directory of a 1 GiB
    // checkpoint is kilobytes); then every byte once, through the reused buffer.
    if (content) readAhead(content, ({ at, length }) => readAt(fd, at, length));
    let size = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      const chunk = buffer.subarray(0, n);
      hash.update(chunk);
      content?.push(chunk);
      size += n;
      onBytes(n);
    }
    return content ? { sha256: hash.digest('hex'), size, content: content.finish() } : { sha256: hash.digest('hex'), size };
  } finally {
    closeSync(fd);
  }
}

/** `length` bytes at `at`, fewer only at the end of the file. */
function readAt(fd: number, at: number, length: number): Uint8Array {
  const bytes = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, bytes, got, length - got, at + got);
    if (n === 0) break;
    got += n;
  }
  return bytes.subarray(0, got);
}

/**
 * Hashes files taken from the shared counters (`counters[0]`: the next index; `counters[1]`: set
 * to stop everyone after a failure) until none is left, reporting each to `onHashed`.
 */
export function hashShare(files: readonly ShareFile[], check: boolean, counters: Int32Array, buffer: Buffer, onBytes: (n: number) => void, onHashed: (id: number, result: Hashed) => void): void {
  for (let id = Atomics.add(counters, 0, 1); id < files.length && Atomics.load(counters, 1) === 0; id = Atomics.add(counters, 0, 1)) {
    let result: Hashed;
    try {
      result = hashFileSync(files[id]!, buffer, check, onBytes);
    } catch (err) {
      Atomics.store(counters, 1, 1);
      result = { error: (err as Error).message };
    }
    onHashed(id, result);
  }
}

// @types/node for Node 20 does not declare WebAssembly; this is the one constructor used.
declare const WebAssembly: { Memory: new (limits: { initial: number; maximum: number }) => { buffer: ArrayBuffer } };

/**
 * `bytes` (a multiple of 64 KiB) of page-aligned memory. A Buffer of more than 128 KiB comes
 * from glibc's mmap path and starts 16 bytes into a page; the kernel's copy from the page cache
 * into such a buffer (`_copy_to_iter`, `rep movsb`) ran at a third of its aligned speed on these
 * machines: 1.3 s of system time per 2 GiB against openssl's 0.4 s (perf record; bench/hash.ts).
 * Node cannot ask for an aligned Buffer, but a WebAssembly.Memory is an mmap reservation of its
 * own and so starts on a page boundary.
 */
export function alignedBuffer(bytes: number): Buffer {
  return Buffer.from(new WebAssembly.Memory({ initial: bytes / 65536, maximum: bytes / 65536 }).buffer);
}
