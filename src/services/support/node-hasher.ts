// SHA-256 and the RFC 6962 log hasher over node:crypto: several times faster than the portable
// hasher (core/tlog/hash.ts) on the service's signing and proof paths, and equal to it (the
// storage tests and the RFC 6962 vectors hold both to the same trees).
import { hash } from 'node:crypto';
import { rfc6962Hasher, type Sha256 } from '../../core/tlog/hash.ts';

// One scratch buffer for the input, grown to the largest input seen (crypto.hash is synchronous,
// so no two calls share it at once). A mirror or monitor hashes every leaf and node of a log: a
// 1,000,000-entry mirror spent 0.5 s of its 1.6 s of hashing allocating and copying each input.
let scratch = Buffer.allocUnsafeSlow(1024);

/**
 * The one-shot crypto.hash, its digest asked for as a 'binary' (latin1) string, one character a
 * byte, and copied into a fresh Uint8Array. On Node 20, asking it for a Buffer costs more than
 * the hash: 1.2 us a call on the 65-byte input of a tree node against 0.42 us this way (0.31 us
 * for the string alone; a Hash object per call, 1.4 us), and a 1,000,000-entry mirror spent
 * 2.1 s of its 5.3 s in those calls. test/services/node-hasher.test.ts holds it to the portable
 * hasher.
 */
const digestOf = (input: Uint8Array): Uint8Array => {
  const digest = hash('sha256', input, 'binary');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = digest.charCodeAt(i);
  return out;
};

export const nodeSha256: Sha256 = (...parts) => {
  if (parts.length === 1) return digestOf(parts[0]!);
  let length = 0;
  for (const p of parts) length += p.length;
  if (length > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(length, scratch.length * 2));
  let at = 0;
  for (const p of parts) {
    scratch.set(p, at);
    at += p.length;
  }
  return digestOf(scratch.subarray(0, length));
};

export const nodeLogHasher = rfc6962Hasher(nodeSha256);
