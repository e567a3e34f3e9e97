// Encodings used at the edges of core. Everything inside core is Uint8Array; these helpers
// exist so that core needs neither Buffer nor node:crypto and runs in any JavaScript runtime.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

export { bytesToHex, hexToBytes };

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing on malformed input rather than inserting replacement characters. */
export function fromUtf8(bytes: Uint8Array): string {
  return strictDecoder.decode(bytes);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * A copy of `bytes` that owns its memory. Use it for anything kept beyond the call that received
 * it: `.slice()` on a Node Buffer (what the CLI's read loop passes, one buffer reused for every
 * read) returns a view of the same memory, so bytes "kept" with it change under the keeper.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

// Node's Buffer when the runtime has one (found by feature test, not imported, so core still
// runs anywhere): base64 of large payloads is several times faster through it.
const NodeBuffer = (globalThis as {
  Buffer?: { from(b: ArrayBufferLike, o?: number, l?: number): { toString(e: string): string }; from(text: string, encoding: 'base64'): Uint8Array };
}).Buffer;

// btoa/atob work on "binary strings"; chunking keeps String.fromCharCode within argument limits.
export function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 with padding; returns undefined for anything else. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (NodeBuffer) {
    // Node's decoder is lenient (it skips what is not base64 and takes the URL alphabet), but a
    // text equal to the canonical encoding of what it decoded to is strict base64 by definition.
    // About a third of the CPU of the regex, atob and loop below in POST /v1/verify (--cpu-prof).
    const decoded = NodeBuffer.from(text, 'base64');
    return toBase64(decoded) === text ? copyBytes(decoded) : undefined;
  }
  if (!BASE64.test(text)) return undefined;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  // Reject non-canonical encodings (non-zero padding bits) so one byte string has one text form.
  return toBase64(out) === text ? out : undefined;
}

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return fromBase64(padded);
}

const HEX64 = /^[0-9a-f]{64}$/;

/** True for a lowercase hex SHA-256 digest. */
export function isSha256Hex(text: unknown): text is string {
  return typeof text === 'string' && HEX64.test(text);
}
