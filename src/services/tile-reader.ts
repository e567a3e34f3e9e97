// The log as C2SP tlog-tiles (docs/design/log.md, "Reading"): hash tiles from tlog_nodes and entry
// bundles from tlog_leaves, only for trees a stored checkpoint commits to: a full tile once the
// newest checkpoint reaches its end, a partial only for a size some checkpoint names (a client
// must never see a tree no checkpoint signs). Hash tiles come from the tile rows proofs are
// computed from (tile-hashes.ts); entry bundles never change either, and are cached gzipped, as
// they are sent, bounded in bytes.
import { gzipSync } from 'node:zlib';
import { LRUCache } from 'lru-cache';
import { ModelsignError } from '../core/errors.ts';
import { formatTilePath, partialSizes, TILE_WIDTH, tileEnd, type TileAddress } from '../core/tlog/tile-path.ts';
import type { Database } from '../db/client.ts';
import { checkpointSizeWithin, readLeafRange } from '../db/tile-store.ts';
import type { LogReader } from './log-reader.ts';
import type { TileHashes } from './tile-hashes.ts';

export interface Tile {
  body: Buffer;
  /** Entry bundles are sent gzipped (the spec allows it without negotiation). */
  encoding: 'gzip' | undefined;
}

export interface TileReaderOptions {
  /** Bytes of tiles kept in memory per instance (0: none). */
  cacheBytes: number;
}

export class TileReader {
  private readonly cache: LRUCache<string, Tile> | undefined;
  // Partials a stored checkpoint names: checkpoints are append-only, so a yes never turns into a no.
  private readonly publishedPartials = new LRUCache<string, true>({ max: 10_000 });

  constructor(
    private readonly db: Database,
    private readonly log: LogReader,
    private readonly hashes: TileHashes,
    options: TileReaderOptions,
  ) {
    this.cache = options.cacheBytes > 0 ? new LRUCache({ maxSize: options.cacheBytes, sizeCalculation: (t) => t.body.length }) : undefined;
  }

  async read(address: TileAddress): Promise<Tile> {
    const key = formatTilePath(address);
    const hit = this.cache?.get(key);
    if (hit) return hit;
    await this.assertPublished(address, key);
    if (address.kind === 'hash') {
      const width = address.width ?? TILE_WIDTH;
      return { body: (await this.hashes.row(address.level, address.index, width)).subarray(0, width * 32), encoding: undefined };
    }
    const bundle = await this.entryBundle(address, key);
    this.cache?.set(key, bundle);
    return bundle;
  }

  /** 404 unless a stored checkpoint commits to the tile: its end for a full one, its exact size range for a partial. */
  private async assertPublished(address: TileAddress, key: string): Promise<void> {
    const end = tileEnd(address);
    const beyond = () => new ModelsignError('not_found', `tile/${key} is beyond the log's newest checkpoint`);
    if (end === undefined) throw beyond();
    if (end > (this.log.servedKnown()?.size ?? 0) && end > (await this.log.servedCheckpoint()).size) throw beyond();
    if (address.width === undefined || this.publishedPartials.has(key)) return;
    const sizes = partialSizes({ ...address, width: address.width })!;
    if (!(await checkpointSizeWithin(this.db, sizes.from, sizes.to))) {
      throw new ModelsignError('not_found', `no checkpoint has a size whose partial tile is tile/${key}; fetch the full tile or one a checkpoint names`);
    }
    this.publishedPartials.set(key, true);
  }

  private async entryBundle(address: TileAddress, key: string): Promise<Tile> {
    const width = address.width ?? TILE_WIDTH;
    const start = address.index * TILE_WIDTH;
    const leaves = await readLeafRange(this.db, start, width);
    if (leaves.size !== width) {
      const missing = Array.from({ length: width }, (_, i) => start + i).filter((i) => !leaves.has(i));
      throw new ModelsignError('log_leaves_unavailable', `tile/${key}: the leaf data of ${missing.length} entr${missing.length === 1 ? 'y' : 'ies'} (first ${missing[0]}) is not stored yet`);
    }
    const parts: Buffer[] = [];
    for (let i = start; i < start + width; i++) {
      const data = leaves.get(i)!;
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(data.length);
      parts.push(prefix, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    }
    return { body: gzipSync(Buffer.concat(parts)), encoding: 'gzip' };
  }
}
