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

/** Bytes of a complete tile: 256 hashes. */
const FULL = TILE_WIDTH * 32;

export class TileHashes {
  /**
   * Complete tiles, in slots of one buffer allocated once: a hit is copied out of its slot, a
   * new row copied into the least recently used one. A cache of the rows themselves (8 KiB
   * Buffers, each its own allocation) made the collector's work grow with every eviction: on
   * bench:tiles's 1,000,000-entry log, read at random, an 8 MiB cache of rows served fewer tiles
   * per second than no cache (5,900-6,100 against 6,200-7,100), its p99 25 ms against 15-17 ms.
   */
  private readonly slab: Buffer | undefined;
  private readonly slots: LRUCache<string, number> | undefined;
  private readonly free: number[] = [];
  /** Incomplete rows (the right edge of each level): few, growing as nodes are stored. */
  private readonly partial: LRUCache<string, Buffer> | undefined;

  constructor(
    private readonly db: Database,
    cacheBytes: number,
  ) {
    // An eighth of the budget for the partial rows (at most 8 KiB each), the rest in slots.
    const count = Math.floor((cacheBytes - cacheBytes / 8) / FULL);
    if (count > 0) {
      // Not zeroed: a slot is always written before it is read, and untouched pages cost no memory.
      this.slab = Buffer.allocUnsafeSlow(count * FULL);
      for (let i = count - 1; i >= 0; i--) this.free.push(i);
      this.slots = new LRUCache<string, number>({ max: count, dispose: (slot) => this.free.push(slot) });
    }
    this.partial = cacheBytes > 0 ? new LRUCache({ maxSize: Math.max(1, Math.floor(cacheBytes / 8)), sizeCalculation: (b) => Math.max(b.length, 1) }) : undefined;
  }

  /** At least the first `width` hashes of tile (level, index), concatenated (more when more are stored). */
  async row(level: number, index: number, width: number): Promise<Buffer> {
    const key = `${level}/${index}`;
    const hit = this.cached(key);
    if (hit && hit.length >= width * 32) return hit;
    const hashes = await readTileHashes(this.db, level, index);
    if (hashes.length < width * 32) throw new ModelsignError('internal_error', `tile ${key}: ${hashes.length / 32} hashes are stored, ${width} were expected`);
    const row = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
    this.keep(key, row);
    return row;
  }

  /** Nodes this instance just stored: a cached row they extend grows (so proofs for new entries need no read). */
  remember(nodes: readonly StoredNode[]): void {
    if (!this.partial) return;
    for (const n of nodes) {
      if (n.level % TILE_HEIGHT !== 0) continue;
      const key = `${n.level / TILE_HEIGHT}/${Math.floor(n.index / TILE_WIDTH)}`;
      const row = this.partial.peek(key);
      if (row && row.length === (n.index % TILE_WIDTH) * 32) this.keep(key, Buffer.concat([row, n.hash]));
    }
  }

  /** A cached row: a copy of a complete one (its slot may be reused while the copy is in use). */
  private cached(key: string): Buffer | undefined {
    const slot = this.slots?.get(key);
    if (slot !== undefined) return Buffer.from(this.slab!.subarray(slot * FULL, (slot + 1) * FULL));
    return this.partial?.get(key);
  }

  private keep(key: string, row: Buffer): void {
    if (row.length < FULL || !this.slots) {
      this.partial?.set(key, row);
      return;
    }
    this.partial?.delete(key);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      // A full cache frees its least recently used slot (dispose) before this one takes it.
      if (this.free.length === 0) this.slots.pop();
      slot = this.free.pop()!;
      this.slots.set(key, slot);
    }
    row.copy(this.slab!, slot * FULL, 0, FULL);
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
