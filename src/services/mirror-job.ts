// The service's own `log mirror` (MODELSIGN_MIRROR_DIR): every interval, the log as static tiles
// in a folder (services/tiles-mirror.ts: checked, incremental, the checkpoint last), read in
// process rather than over HTTP: the served checkpoint, tiles and entry bundles from the tile
// reader, each bundle's side file from the log's entries. One instance at a time on PostgreSQL
// (an advisory lock held for the run; another instance finding it held skips that turn); an
// embedded database has one instance. The folder is pinned to the active log key: after a log
// key rotation the job fails, saying so, until it is pointed at a new folder.
import { gunzipSync } from 'node:zlib';
import { ModelsignError } from '../core/errors.ts';
import { sideEntryOf } from '../core/tlog/entry-side-file.ts';
import { parseTilePath } from '../core/tlog/tile-path.ts';
import { formatVkey, NOTE_TYPE } from '../core/tlog/vkey.ts';
import type { Database } from '../db/client.ts';
import { tryMirrorLock } from '../db/tile-store.ts';
import type { AppendGuard } from './append-guard.ts';
import type { KeyService } from './keys.ts';
import type { LogReader } from './log-reader.ts';
import type { TileReader } from './tile-reader.ts';
import { MirrorError, mirrorTiles, type MirrorResult, type MirrorSource } from './tiles-mirror.ts';

export class MirrorJob {
  constructor(
    private readonly db: Database,
    private readonly log: LogReader,
    private readonly tiles: TileReader,
    private readonly keys: KeyService,
    private readonly guard: AppendGuard,
    readonly dir: string,
  ) {}

  /**
   * Brings the folder up to the served checkpoint; undefined when another instance holds the lock,
   * or when appending is stopped because the database is behind what was published (the folder,
   * likely the evidence, is left as it is).
   */
  async run(): Promise<MirrorResult | undefined> {
    if (this.guard.publishedAhead) return undefined;
    if (this.db.kind === 'pglite') return this.mirror();
    return this.db.sqlTransaction(async (s) => ((await tryMirrorLock(s)) ? this.mirror() : undefined));
  }

  private async mirror(): Promise<MirrorResult> {
    const key = this.keys.list().find((k) => k.purpose === 'log' && k.status === 'active');
    if (!key) throw new MirrorError('source', 'the log has no active key');
    const read = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof ModelsignError) throw new MirrorError('source', `${what}: ${err.message}`);
        throw err;
      }
    };
    const source: MirrorSource = {
      checkpoint: async () => (await this.log.servedCheckpoint()).note,
      tile: (rel) =>
        read(`tile/${rel}`, async () => {
          const tile = await this.tiles.read(parseTilePath(rel));
          return new Uint8Array(tile.encoding === 'gzip' ? gunzipSync(tile.body) : tile.body);
        }),
      entries: (_bundle, start, end) => read(`entries [${start}, ${end})`, async () => (await this.log.entries(start, end)).map((e) => ({ data: e.data, side: sideEntryOf(e) }))),
    };
    return mirrorTiles(this.dir, source, formatVkey(this.log.origin, NOTE_TYPE.ed25519, key.publicKey));
  }
}
