// The log's backfill: signatures stored before the log existed (or by any path that left
// log_index empty) are appended to it at start, oldest first, in batches, under the lock appends
// take. It sits beside the writer (signature-writer.ts), the other path that appends, rather than
// in the signing service: it signs nothing, and it is the log's business which leaves it holds.
import { rowEntryFacts, kindVersionKey } from '../core/tlog/entries/entry-kind.ts';
import { CURRENT_ENTRY_KIND, leafFor } from '../core/tlog/entries/registry.ts';
import { appendLeaves, unpackFrontier } from '../core/tlog/compact-range.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import type { Database } from '../db/client.ts';
import { appendToLog, lockLog } from '../db/log-store.ts';
import { setLogIndexes, unloggedSignatures } from '../db/signature-store.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { KeyService } from './keys.ts';

export class LogBackfill {
  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
    private readonly checkpointer: Checkpointer,
    private readonly hasher: LogHasher,
  ) {}

  /** Appends every signature without a log index; returns how many it appended. */
  async run(batchSize = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await this.db.sqlTransaction(async (s) => {
        await lockLog(s);
        const rows = await unloggedSignatures(s, batchSize);
        if (rows.length === 0) return { count: 0, nodes: [] };
        const leaves: { hash: Uint8Array; data: Uint8Array }[] = [];
        for (const r of rows) {
          const data = leafFor(CURRENT_ENTRY_KIND, rowEntryFacts(r, await this.keys.publicKey(r.kid)), this.hasher.sha256);
          leaves.push({ hash: this.hasher.hashLeaf(data), data });
        }
        const start = await appendToLog(s, leaves);
        await setLogIndexes(
          s,
          rows.map((r) => r.id),
          start.startSize,
          kindVersionKey(CURRENT_ENTRY_KIND),
        );
        return { count: rows.length, nodes: appendLeaves(unpackFrontier(start.startSize, start.startFrontier), leaves.map((l) => l.hash), this.hasher).nodes };
      });
      if (done.count > 0) this.checkpointer.appended(done.nodes, undefined);
      total += done.count;
      if (done.count < batchSize) return total;
    }
  }
}
