// The verify page's SHA-256: hash-wasm's WebAssembly build (about 200 MiB/s in Chromium, four
// times @noble/hashes), pinned to an exact version in package.json. Compiling WebAssembly needs
// 'wasm-unsafe-eval' in the page's and the worker's CSP (the server sends it for `/` and the
// hash worker only); where it cannot be compiled (an older browser, a stricter policy in front)
// the page falls back to @noble/hashes and says so.
import { createSHA256 } from 'hash-wasm';
import { nobleSha256, type Sha256Hasher } from '../core/file-check.ts';

export type HasherKind = { kind: 'wasm' } | { kind: 'noble'; reason: string };

let wasm: Promise<HasherKind> | undefined;

/** Whether hash-wasm can run here, found once per worker. */
export function hasherKind(): Promise<HasherKind> {
  wasm ??= createSHA256().then(
    () => ({ kind: 'wasm' }) as HasherKind,
    (err: unknown) => ({ kind: 'noble', reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
  );
  return wasm;
}

/** A fresh SHA-256 of the fastest kind that runs here. */
export async function newSha256(): Promise<{ hasher: Sha256Hasher; kind: HasherKind }> {
  const kind = await hasherKind();
  if (kind.kind === 'noble') return { hasher: nobleSha256(), kind };
  const h = await createSHA256();
  h.init();
  return { hasher: { update: (bytes) => void h.update(bytes), hexDigest: () => h.digest('hex') }, kind };
}
