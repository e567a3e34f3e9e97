// Proof verification as specified in RFC 9162 sections 2.1.3.2 and 2.1.4.2. Both functions throw
// TlogError('proof_invalid') with the reason; they never return false.
import { equalBytes } from '../bytes.ts';
import { HASH_SIZE, nodeHash } from './hash.ts';
import { TlogError } from './tlog-error.ts';

const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

function fail(message: string): never {
  throw new TlogError('proof_invalid', message);
}

function assertHashes(proof: readonly Uint8Array[], root: Uint8Array, ...more: Uint8Array[]): void {
  for (const h of [...proof, root, ...more]) if (h.length !== HASH_SIZE) fail(`a hash is ${h.length} bytes, not ${HASH_SIZE}`);
}

/** The root an inclusion proof leads to; throws when the proof cannot be for (index, size). */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) fail(`index ${index} is not inside a tree of size ${size}`);
  assertHashes(proof, leaf);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) fail('the proof is longer than the tree is deep');
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) fail('the proof is shorter than the tree is deep');
  return r;
}

export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  assertHashes([], root);
  if (!equalBytes(rootFromInclusionProof(index, size, leaf, proof), root)) fail('the proof does not lead to the root hash');
}

export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  // As in transparency-dev/merkle, nothing is proved from the empty tree: every tree extends it.
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 1 || size2 < size1) fail(`no consistency proof goes from size ${size1} to size ${size2}`);
  if (size1 === size2) {
    if (proof.length > 0) fail('a proof between equal sizes must be empty');
    if (!equalBytes(root1, root2)) fail('equal tree sizes with different root hashes: the log forked');
    return;
  }
  if (proof.length === 0) fail('the proof is empty');
  assertHashes(proof, root1, root2);
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) fail('the proof is longer than needed');
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) fail('the proof is shorter than needed');
  if (!equalBytes(fr, root1)) fail('the proof does not lead to the first root hash');
  if (!equalBytes(sr, root2)) fail('the proof does not lead to the second root hash');
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}
