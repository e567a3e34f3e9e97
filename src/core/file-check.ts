// One file's SHA-256 and content check over the chunks a reader yields, in one pass: what the
// browser's verify page runs in its Web Workers (the CLI hashes with node:crypto instead, which
// is several times faster, and feeds the same ContentCheck). Pure and portable.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from './bytes.ts';
import { ContentCheck } from './scan/classify.ts';
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

  /** `name` is the file's path (the content check reads its extension). */
  constructor(name: string) {
    this.content = new ContentCheck(name);
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
