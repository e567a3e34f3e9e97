// One file's SHA-256 and content check over the chunks a reader yields, in one pass: what the
// browser's verify page runs in its Web Workers (the CLI hashes with node:crypto instead, which
// is several times faster, and feeds the same ContentCheck). Pure and portable: the SHA-256 comes
// from the caller (the page passes hash-wasm's, four times @noble/hashes' speed in Chromium, and
// falls back to this default where WebAssembly cannot be compiled).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from './bytes.ts';
import { ContentCheck, type ByteRange } from './scan/classify.ts';
import type { ContentReport } from './scan/verdict.ts';

export interface FileCheckResult {
  sha256: string;
  size: number;
  content: ContentReport;
}

/** An incremental SHA-256: bytes in, the digest as lowercase hex once at the end. */
export interface Sha256Hasher {
  update(bytes: Uint8Array): void;
  hexDigest(): string;
}

/** @noble/hashes' SHA-256, pure JavaScript: the default, and the page's fallback. */
export function nobleSha256(): Sha256Hasher {
  const hash = sha256.create();
  return { update: (bytes) => void hash.update(bytes), hexDigest: () => bytesToHex(hash.digest()) };
}

export class FileCheck {
  private readonly content: ContentCheck;
  private size = 0;

  /** `name` is the file's path (the content check reads its extension); `size` its size when picked. */
  constructor(
    name: string,
    size: number,
    private readonly hash: Sha256Hasher = nobleSha256(),
  ) {
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
    return { sha256: this.hash.hexDigest(), size: this.size, content: this.content.finish() };
  }
}
