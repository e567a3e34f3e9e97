// The verify page's SHA-256: hash-wasm's WebAssembly build (about 200 MiB/s in Chromium, four
// times @noble/hashes), pinned to an exact version in package.json. Compiling WebAssembly needs
// 'wasm-unsafe-eval' in the page's and the worker's CSP (the server sends it for `/` and the
// hash worker only); where it cannot be compiled (an older browser, a stricter policy in front)
// the page falls back to @noble/hashes and says so.
import { createSHA256 } from 'hash-wasm';
import { nobleSha256, type Sha256Hasher } from '../core/file-check.ts';

export type HasherKind = { kind: 'wasm' } | { kind: 'noble'; reason: string };

/** Why WebAssembly could not be used here, once it failed (each worker finds out once). */
let unavailable: string | undefined;

/** A fresh SHA-256 of the fastest kind that runs here. */
export async function newSha256(): Promise<{ hasher: Sha256Hasher; kind: HasherKind }> {
  if (unavailable === undefined) {
    try {
      const h = await createSHA256();
      return { hasher: { update: (bytes) => void h.update(bytes), hexDigest: () => h.digest('hex') }, kind: { kind: 'wasm' } };
    } catch (err) {
      unavailable = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
  }
  return { hasher: nobleSha256(), kind: { kind: 'noble', reason: unavailable } };
}
