// One file's SHA-256 and content check over the chunks a reader yields, in one pass: what the
// browser's verify page runs in its Web Workers (the CLI hashes with node:crypto instead, which
// is several times faster, and feeds the same ContentCheck). Pure and portable.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from './bytes.ts';
import { ContentCheck, type ByteRange } from './scan/classify.ts';
import type { ContentReport } from './scan/verdict.ts';

export interface FileCheckResult {
  sha256: string;
  size: number;
  content: ContentReport;
}

export class FileCheck {
  private readonly hash = sha256.create();
  private readonly content: ContentCheck;
  private size = 0;

  /** `name` is the file's path (the content check reads its extension); `size` its size when picked. */
  constructor(name: string, size: number) {
    this.content = new ContentCheck(name, size);
  }

  /** A range to read ahead of the stream (a zip's directory), or undefined: see ContentCheck. */
  wanted(): ByteRange | undefined {
    return this.content.wanted();
  }

  provide(bytes: Uint8Array): void {
    this.content.provide(bytes);
  }

  push(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.content.push(chunk);
    this.size += chunk.length;
  }

  finish(): FileCheckResult {
    return { sha256: bytesToHex(this.hash.digest()), size: this.size, content: this.content.finish() };
  }
}
