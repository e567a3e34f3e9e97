// The tree's right edge. The state needed to append is only the right edge of the tree (the
// hashes of its perfect subtrees, largest first, as in transparency-dev's compact ranges); each
// append yields the new nodes to store, and the root folds from that edge.
import { HASH_SIZE, RFC6962, type LogHasher } from './hash.ts';
import type { NodeId } from './tree-math.ts';
import { TlogError } from './tlog-error.ts';

export interface StoredNode extends NodeId {
  hash: Uint8Array;
}

export interface TreeEdge {
  size: number;
  /** Hashes of the perfect subtrees of the tree, left (largest) to right (smallest). */
  frontier: Uint8Array[];
}

// The log's storage appends in SQL (tlog_append, the only writer of the tree); this is the same
// computation for those who need it without writing: a signing batch predicting the tree it will
// make, a monitor replaying entries, and the tests that hold the two to the same vectors.
export function appendLeaves(edge: TreeEdge, leafHashes: readonly Uint8Array[], hasher: LogHasher = RFC6962): { edge: TreeEdge; nodes: StoredNode[] } {
  const frontier = [...edge.frontier];
  const nodes: StoredNode[] = [];
  let size = edge.size;
  for (const leaf of leafHashes) {
    if (leaf.length !== HASH_SIZE) throw new TlogError('range_invalid', 'a leaf hash is not 32 bytes');
    let hash = leaf;
    let level = 0;
    let index = size;
    nodes.push({ level, index, hash });
    while (index % 2 === 1) {
      hash = hasher.hashChildren(frontier.pop()!, hash);
      level++;
      index = (index - 1) / 2;
      nodes.push({ level, index, hash });
    }
    frontier.push(hash);
    size++;
  }
  return { edge: { size, frontier }, nodes };
}

export function edgeRoot(edge: TreeEdge, hasher: LogHasher = RFC6962): Uint8Array {
  const f = edge.frontier;
  if (f.length === 0) return hasher.emptyRoot();
  let root = f[f.length - 1]!;
  for (let i = f.length - 2; i >= 0; i--) root = hasher.hashChildren(f[i]!, root);
  return root;
}

/** The frontier packed as one byte string, for storage in a single column. */
export function packFrontier(frontier: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frontier.length * HASH_SIZE);
  frontier.forEach((h, i) => out.set(h, i * HASH_SIZE));
  return out;
}

export function unpackFrontier(size: number, packed: Uint8Array): TreeEdge {
  let bits = 0;
  for (let n = size; n > 0; n = Math.floor(n / 2)) bits += n % 2;
  if (packed.length !== bits * HASH_SIZE) throw new TlogError('range_invalid', `a tree of size ${size} has ${bits} edge hashes, stored ${packed.length / HASH_SIZE}`);
  const frontier: Uint8Array[] = [];
  for (let i = 0; i < bits; i++) frontier.push(packed.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return { size, frontier };
}
