// Leaf data for logs made before it was stored at append (tiles migration): at start, in batches,
// the leaf of every logged signature without one is rebuilt from the signature (by its entry kind)
// and stored, but only when it hashes to the leaf hash the tree already holds. A leaf that does
// not is an alarm: its index is named in an error line and counted (metric
// modelsign_log_leaf_mismatches), nothing is stored for it, so its entry bundle stays 503; the
// rest of the service, and of the backfill, goes on. One instance at a time does it (an advisory
// lock per batch; another instance finding it held leaves the work to the holder); each batch
// commits, so a killed instance's successor resumes where it stopped.
import { equalBytes } from '../core/bytes.ts';
import { rowEntryFacts } from '../core/tlog/entries/entry-kind.ts';
import { entryKindNamed } from '../core/tlog/entries/registry.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import type { Database } from '../db/client.ts';
import { signaturesWithoutLeaves, storeLeaves, tryLeafBackfillLock } from '../db/tile-store.ts';
import type { KeyService } from './keys.ts';

export interface LeafBackfillEvents {
  progress(done: number): void;
  mismatch(index: number): void;
}

export class LeafBackfill {
  /** Indexes whose rebuilt leaf did not hash to the stored one (since start). */
  readonly mismatches = new Set<number>();
  private stopping = false;

  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
    private readonly hasher: LogHasher,
    private readonly events: LeafBackfillEvents,
  ) {}

  /** Stops after the batch in flight (stop() of the services). */
  stop(): void {
    this.stopping = true;
  }

  /** Stores every missing leaf it can; returns how many it stored (0 when another instance holds the lock). */
  async run(batchSize = 1000): Promise<number> {
    let after = -1;
    let stored = 0;
    while (!this.stopping) {
      const batch = await this.db.sqlTransaction(async (s) => {
        if (!(await tryLeafBackfillLock(s))) return undefined;
        const rows = await signaturesWithoutLeaves(s, after, batchSize);
        const leaves: { index: number; data: Uint8Array }[] = [];
        for (const r of rows) {
          const data = entryKindNamed(r.entryKind).leafData(rowEntryFacts(r, await this.keys.publicKey(r.kid)), this.hasher.sha256);
          if (equalBytes(this.hasher.hashLeaf(data), r.leafHash)) leaves.push({ index: r.logIndex, data });
          else if (!this.mismatches.has(r.logIndex)) {
            this.mismatches.add(r.logIndex);
            this.events.mismatch(r.logIndex);
          }
        }
        await storeLeaves(s, leaves);
        return { rows: rows.length, stored: leaves.length, last: rows.at(-1)?.logIndex };
      });
      if (!batch) return stored;
      stored += batch.stored;
      if (batch.stored > 0) this.events.progress(stored);
      if (batch.rows < batchSize || batch.last === undefined) return stored;
      after = batch.last;
    }
    return stored;
  }
}
