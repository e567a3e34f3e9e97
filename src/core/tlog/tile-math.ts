// Where a tree node lives in C2SP tiles, and how it is computed from them (as Go's sumdb/tlog
// does): node (level l, index i) is the root of the 2^k hashes at level 8L (L = floor(l/8),
// k = l mod 8) from index i·2^k, which all sit in tile (L, floor(i·2^k / 256)). Proofs are built
// from tiles this way, so they read the log exactly as a tiles client does.
import type { LogHasher } from './hash.ts';
import { TILE_HEIGHT, TILE_WIDTH } from './tile-path.ts';
import type { NodeId } from './tree-math.ts';

export interface TileSpan {
  /** Tile level and index. */
  level: number;
  index: number;
  /** The node's hashes in that tile: positions [start, start + count). */
  start: number;
  count: number;
}

export function tileSpanOf(node: NodeId): TileSpan {
  const level = Math.floor(node.level / TILE_HEIGHT);
  const count = 2 ** (node.level % TILE_HEIGHT);
  const first = node.index * count;
  return { level, index: Math.floor(first / TILE_WIDTH), start: first % TILE_WIDTH, count };
}

/** The node's hash from its tile's hashes (32 bytes each, from position 0), folding its span pairwise. */
export function nodeFromTile(tile: Uint8Array, span: TileSpan, hasher: LogHasher): Uint8Array {
  let row: Uint8Array[] = [];
  for (let p = span.start; p < span.start + span.count; p++) row.push(tile.subarray(p * 32, p * 32 + 32));
  while (row.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(hasher.hashChildren(row[i]!, row[i + 1]!));
    row = next;
  }
  // A copy, not a view of the tile (which may be a Node Buffer, and is shared).
  return row.length === 1 && span.count === 1 ? new Uint8Array(row[0]!) : row[0]!;
}
