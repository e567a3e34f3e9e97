// The messages between the verify page and its hashing workers.
import type { FileCheckResult } from '../core/file-check.ts';

export interface ToWorker {
  id: number;
  path: string;
  file: File;
}

export type FromWorker =
  | { type: 'progress'; id: number; bytes: number }
  /** Which SHA-256 the worker runs: hash-wasm, or @noble/hashes when WebAssembly cannot be compiled (and why). */
  | { type: 'hasher'; id: number; kind: 'wasm' }
  | { type: 'hasher'; id: number; kind: 'noble'; reason: string }
  | { type: 'done'; id: number; result: FileCheckResult }
  | { type: 'error'; id: number; message: string };
