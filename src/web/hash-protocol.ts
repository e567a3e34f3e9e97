// The messages between the verify page and its hashing workers.
import type { FileCheckResult } from '../core/file-check.ts';

export interface ToWorker {
  id: number;
  path: string;
  file: File;
}

export type FromWorker =
  | { type: 'progress'; id: number; bytes: number }
  | { type: 'done'; id: number; result: FileCheckResult }
  | { type: 'error'; id: number; message: string };
