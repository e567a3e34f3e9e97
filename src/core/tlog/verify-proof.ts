// Proof verification as specified in RFC 9162 sections 2.1.3.2 and 2.1.4.2. Both functions throw
// TlogError('proof_invalid') with the reason; they never return false. The two proofs climb the
// tree the same way (one shared walk, `climb`), differing only in which roots each step extends.
import { equalBytes } from '../bytes.ts';
import { HASH_SIZE, RFC6962, type LogHasher } from './hash.ts';
import { TlogError } from './tlog-error.ts';

const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

function fail(message: string): never {
  throw new TlogError('proof_invalid', message);
}

function assertHashes(proof: readonly Uint8Array[], root: Uint8Array, ...more: Uint8Array[]): void {
  for (const h of [...proof, root, ...more]) if (h.length !== HASH_SIZE) fail(`a hash is ${h.length} bytes, not ${HASH_SIZE}`);
}

/**
 * RFC 9162's walk up the tree from node `fn` of a tree whose last node is `sn`: for each proof
 * hash, `step` is told whether it is a left sibling (hash it in front) or a right one (behind).
 * Fails when the proof does not have exactly the length the tree's shape needs.
 */
function climb(fn: number, sn: number, path: readonly Uint8Array[], step: (hash: Uint8Array, left: boolean) => void, tooLong: string, tooShort: string): void {
  for (const c of path) {
    if (sn === 0) fail(tooLong);
    if (isOdd(fn) || fn === sn) {
      step(c, true);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      step(c, false);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) fail(tooShort);
}

/** The root an inclusion proof leads to; throws when the proof cannot be for (index, size). */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], hasher: LogHasher = RFC6962): Uint8Array {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) fail(`index ${index} is not inside a tree of size ${size}`);
  assertHashes(proof, leaf);
  let r = leaf;
  climb(index, size - 1, proof, (p, left) => (r = left ? hasher.hashChildren(p, r) : hasher.hashChildren(r, p)), 'the proof is longer than the tree is deep', 'the proof is shorter than the tree is deep');
  return r;
}

export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array, hasher: LogHasher = RFC6962): void {
  assertHashes([], root);
  if (!equalBytes(rootFromInclusionProof(index, size, leaf, proof, hasher), root)) fail('the proof does not lead to the root hash');
}

export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
  hasher: LogHasher = RFC6962,
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
  climb(
    fn,
    sn,
    path.slice(1),
    (c, left) => {
      if (left) {
        fr = hasher.hashChildren(c, fr);
        sr = hasher.hashChildren(c, sr);
      } else {
        sr = hasher.hashChildren(sr, c);
      }
    },
    'the proof is longer than needed',
    'the proof is shorter than needed',
  );
  if (!equalBytes(fr, root1)) fail('the proof does not lead to the first root hash');
  if (!equalBytes(sr, root2)) fail('the proof does not lead to the second root hash');
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}
