// Release manifests: which files a release has and their SHA-256 digests. The rules on paths
// exist because a manifest drives file access on the verifying side: a name like `../../x` or
// `/etc/passwd` in a signed manifest must never make a verifier open a file outside the model.
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, hexToBytes, bytesToHex, isSha256Hex, utf8 } from './bytes.ts';
import { ModelsignError, type ErrorDetail } from './errors.ts';
import { escapeName, invisibleCharacter, invisibleCharacters } from './unicode.ts';

export const MAX_PATH_BYTES = 4096;
export const MAX_SEGMENT_BYTES = 255;

export interface ManifestFile {
  path: string;
  sha256: string;
  size?: number;
}

export interface Manifest {
  /** In resource order: sorted by Unicode code point, which is UTF-8 byte order. */
  files: ManifestFile[];
  /** Sorted and without duplicates. */
  ignorePaths: string[];
  rootDigest: string;
}

// C0 controls, DEL and C1 controls: invisible in listings and dangerous in terminals and logs.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `path` is not a safe manifest path, or undefined when it is one. */
export function pathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string') return 'must be a string';
  if (path.length === 0) return 'must not be empty';
  if (!path.isWellFormed()) return 'must be valid Unicode (no lone surrogates)';
  if (CONTROL.test(path)) return 'must not contain NUL or control characters';
  const hidden = invisibleCharacter(path);
  if (hidden) return `must not contain invisible or bidirectional format characters (${hidden})`;
  if (path.normalize('NFC') !== path) return 'must be in Unicode normalization form C (NFC)';
  if (path.startsWith('/')) return 'must be relative (no leading /)';
  // A backslash is a separator on Windows: `a\..\b` would escape there.
  if (path.includes('\\')) return 'must use / as the only separator (no backslash)';
  if (/^[A-Za-z]:/.test(path)) return 'must not start with a drive letter';
  // UTF-8 takes at most 3 bytes per UTF-16 code unit (the path is well formed): most paths are
  // known to be short enough without encoding them (encoding was over a third of this check's CPU).
  if (path.length * 3 > MAX_PATH_BYTES && utf8(path).length > MAX_PATH_BYTES) return `must be at most ${MAX_PATH_BYTES} bytes`;
  for (const segment of path.split('/')) {
    if (segment === '') return 'must not have empty segments (// or a trailing /)';
    if (segment === '.') return 'must not have . segments';
    if (segment === '..') return 'must not have .. segments';
    if (segment.length * 3 > MAX_SEGMENT_BYTES && utf8(segment).length > MAX_SEGMENT_BYTES) return `segments must be at most ${MAX_SEGMENT_BYTES} bytes`;
  }
  return undefined;
}

/** Whether `path` is one of `ignorePaths` or inside one of them (the OMS ignore rule). */
export function isIgnoredPath(path: string, ignorePaths: readonly string[]): boolean {
  return ignorePaths.some((p) => path === p || path.startsWith(p + '/'));
}

/**
 * Orders strings by Unicode code point (equivalently, by UTF-8 bytes), as Python's sort does,
 * rather than by UTF-16 code unit as JavaScript's default sort does. Code units D800–DFFF
 * (surrogates, i.e. code points above FFFF) must sort after E000–FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x <= 0xdfff ? x + 0x2000 : x - 0x800;
    if (y >= 0xd800) y = y <= 0xdfff ? y + 0x2000 : y - 0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** The folders that contain `path`: `a/b/c` → [`a`, `a/b`]. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

export function rootDigest(digests: readonly string[]): string {
  return bytesToHex(sha256(concatBytes(...digests.map((d) => hexToBytes(d)))));
}

/**
 * Validates and canonicalises a manifest: every path safe, no duplicates, no path that is both
 * a file and a folder, no file under an ignored path, digests lowercase hex. Throws with every
 * problem found, not just the first, so a publisher fixes a bad manifest in one round.
 */
export function buildManifest(files: readonly ManifestFile[], ignorePaths: readonly string[] = []): Manifest {
  const errors: ErrorDetail[] = [];
  let code: 'invalid_path' | 'duplicate_path' | 'invisible_character' = 'invalid_path';
  // A path's problem; one that holds invisible characters is named for them (and is the problem
  // to report first, whatever else is wrong), with every such code point in `codePoints`.
  const pathError = (where: string, value: unknown): ErrorDetail | undefined => {
    const problem = pathProblem(value);
    if (problem === undefined) return undefined;
    const codePoints = typeof value === 'string' ? invisibleCharacters(value) : [];
    if (codePoints.length === 0) return { path: where, message: problem, value };
    code = 'invisible_character';
    return { path: where, message: `${escapeName(value as string)} holds invisible or bidirectional format characters (${[...new Set(codePoints)].join(', ')})`, value, codePoints };
  };
  // Sort positions, not files, so errors can name the index the caller sent.
  const order = files.map((_, i) => i).sort((a, b) => compareCodePoints(files[a]!.path, files[b]!.path));
  const sorted = order.map((i) => files[i]!);
  const paths = new Set<string>();
  order.forEach((index) => {
    const file = files[index]!;
    const where = `files[${index}]`;
    const bad = pathError(`${where}.path`, file.path);
    if (bad) errors.push(bad);
    if (!isSha256Hex(file.sha256)) errors.push({ path: `${where}.sha256`, message: 'must be 64 lowercase hex characters' });
    if (paths.has(file.path)) {
      if (code !== 'invisible_character') code = 'duplicate_path';
      errors.push({ path: `${where}.path`, message: 'duplicate path', value: file.path });
    }
    paths.add(file.path);
  });
  order.forEach((index) => {
    const path = files[index]!.path;
    const folder = ancestors(path).find((a) => paths.has(a));
    if (folder !== undefined) {
      errors.push({ path: `files[${index}].path`, message: `is inside ${JSON.stringify(folder)}, which is also listed as a file`, value: path });
    }
  });
  const ignored = [...new Set(ignorePaths)].sort(compareCodePoints);
  ignored.forEach((p, i) => {
    const bad = pathError(`ignorePaths[${i}]`, p);
    if (bad) errors.push(bad);
  });
  const ignoredSet = new Set(ignored);
  for (const file of sorted) {
    const hit = [file.path, ...ancestors(file.path)].find((p) => ignoredSet.has(p));
    if (hit !== undefined) errors.push({ path: 'files', message: `${JSON.stringify(file.path)} is under ignored path ${JSON.stringify(hit)}`, value: file.path });
  }
  if (errors.length > 0) {
    const first = errors.find((e) => code !== 'invisible_character' || e.codePoints) ?? errors[0]!;
    throw new ModelsignError(code, `${first.path}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, errors);
  }
  return { files: sorted, ignorePaths: ignored, rootDigest: rootDigest(sorted.map((f) => f.sha256)) };
}
