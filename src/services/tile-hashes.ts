// The hash tiles of the log as both readers use them: the tiles API (tile-reader.ts) serves them,
// and proofs (log-reader.ts) are computed from them (core/tlog/tile-math.ts), so a proof reads the
// log exactly as a tiles client would. A tile's hashes are read once (a complete tile's row of
// tlog_tiles, or the right edge's nodes) and kept (bounded in bytes): stored hashes never change,
// so a row only ever grows, until it is full.
import { LRUCache } from 'lru-cache';
import { ModelsignError } from '../core/errors.ts';
import { TILE_HEIGHT, TILE_WIDTH } from '../core/tlog/tile-path.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import { nodeFromTile, tileSpanOf } from '../core/tlog/tile-math.ts';
import type { NodeId } from '../core/tlog/tree-math.ts';
import type { StoredNode } from '../core/tlog/compact-range.ts';
import type { Database } from '../db/client.ts';
import { readTileHashes } from '../db/tile-store.ts';

export class TileHashes {
  private readonly cache: LRUCache<string, Buffer> | undefined;

  constructor(
    private readonly db: Database,
    cacheBytes: number,
  ) {
    this.cache = cacheBytes > 0 ? new LRUCache({ maxSize: cacheBytes, sizeCalculation: (b) => Math.max(b.length, 1) }) : undefined;
  }

  /** At least the first `width` hashes of tile (level, index), concatenated (more when more are stored). */
  async row(level: number, index: number, width: number): Promise<Buffer> {
    const key = `${level}/${index}`;
    const hit = this.cache?.get(key);
    if (hit && hit.length >= width * 32) return hit;
    const hashes = await readTileHashes(this.db, level, index);
    if (hashes.length < width * 32) throw new ModelsignError('internal_error', `tile ${key}: ${hashes.length / 32} hashes are stored, ${width} were expected`);
    const row = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
    this.cache?.set(key, row);
    return row;
  }

  /** Nodes this instance just stored: a cached row they extend grows (so proofs for new entries need no read). */
  remember(nodes: readonly StoredNode[]): void {
    if (!this.cache) return;
    for (const n of nodes) {
      if (n.level % TILE_HEIGHT !== 0) continue;
      const key = `${n.level / TILE_HEIGHT}/${Math.floor(n.index / TILE_WIDTH)}`;
      const row = this.cache.peek(key);
      if (row && row.length === (n.index % TILE_WIDTH) * 32) this.cache.set(key, Buffer.concat([row, n.hash]));
    }
  }
}

/** The hashes of `ids`, each computed from its hash tile (one row read per tile, for the widest span any node needs of it). */
export async function nodesFromTiles(ids: readonly NodeId[], tiles: TileHashes, hasher: LogHasher): Promise<Uint8Array[]> {
  const spans = ids.map(tileSpanOf);
  const widths = new Map<string, { level: number; index: number; width: number }>();
  for (const s of spans) {
    const key = `${s.level}/${s.index}`;
    const seen = widths.get(key);
    widths.set(key, { level: s.level, index: s.index, width: Math.max(seen?.width ?? 0, s.start + s.count) });
  }
  const rows = new Map<string, Buffer>();
  await Promise.all([...widths].map(async ([key, w]) => rows.set(key, await tiles.row(w.level, w.index, w.width))));
  return spans.map((s) => nodeFromTile(rows.get(`${s.level}/${s.index}`)!, s, hasher));
}
