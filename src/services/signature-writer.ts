// Writes signatures in batches. Requests that arrive while a write is in flight queue up and go
// to the database together in the next statement, so N concurrent signing requests cost one
// lock, one statement and one commit instead of N ("natural batching": no timer, a lone request
// is written at once). The statement (db/signature-store.ts) is also where log indexes are
// assigned, through tlog_append (docs/design/log.md).
//
// A signature is acknowledged only after that statement (signature, audit event, log index,
// tree nodes, usually the checkpoint) has committed.
import { hexToBytes } from '../core/bytes.ts';
import { appendLeaves, edgeRoot, unpackFrontier, type StoredNode, type TreeEdge } from '../core/tlog/compact-range.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import type { Database } from '../db/client.ts';
import { databaseFailure } from '../db/errors.ts';
import type { CheckpointToStore } from '../db/log-store.ts';
import { insertSignatureBatch, type SignatureInsert } from '../db/signature-store.ts';

export interface WriteResult {
  /** False when (model, version) was already signed; nothing was written. */
  inserted: boolean;
  logIndex: number | null;
}

/** What the writer tells the log (the Checkpointer) before and after a batch. */
export interface WriterLogHooks {
  /** Signs the checkpoint of the tree a batch is expected to make, or undefined to leave it to the checkpointer. */
  prepareCheckpoint(size: number, rootHash: Uint8Array): Promise<CheckpointToStore | undefined>;
  /** After a batch: the nodes it stored, and its checkpoint with the size of the one before, if stored. */
  appended(nodes: StoredNode[], checkpoint: (CheckpointToStore & { previousSize: number | null }) | undefined): void;
}

export interface WriterLimits {
  /** Rows per statement at most. */
  maxRows: number;
  /** Approximate bytes per statement at most. */
  maxBytes: number;
}

// One request's rows: a single signature, or a batch (POST /v1/signatures/batch) whose rows are
// stored in the same statement or not at all; groups from several requests may share a statement.
interface Pending {
  rows: SignatureInsert[];
  size: number;
  resolve(results: WriteResult[]): void;
  reject(err: unknown): void;
}

export class SignatureWriter {
  private queue: Pending[] = [];
  private flushing = false;
  /** The tree's edge after this instance's last batch (stale when other instances append). */
  private edge: TreeEdge | undefined;

  constructor(
    private readonly db: Database,
    private readonly log: WriterLogHooks,
    private readonly hasher: LogHasher,
    private readonly limits: WriterLimits,
  ) {}

  async write(row: SignatureInsert): Promise<WriteResult> {
    return (await this.writeAll([row]))[0]!;
  }

  /** Stores `rows` in one statement (with or without other requests' rows): all of them, or none. */
  writeAll(rows: SignatureInsert[]): Promise<WriteResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, size: rows.reduce((n, row) => n + row.payloadB64.length + 512, 0), resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        // Whole groups only: a batch larger than the limits goes alone.
        let bytes = 0;
        let rows = 0;
        let n = 0;
        while (n < this.queue.length && (n === 0 || (rows + this.queue[n]!.rows.length <= this.limits.maxRows && bytes + this.queue[n]!.size <= this.limits.maxBytes))) {
          bytes += this.queue[n]!.size;
          rows += this.queue[n++]!.rows.length;
        }
        await this.store(this.queue.splice(0, n));
      }
    } finally {
      this.flushing = false;
    }
  }

  private async store(batch: Pending[]): Promise<void> {
    try {
      const prepared = await this.predict(batch);
      const rows = batch.flatMap((p) => p.rows);
      const result = await insertSignatureBatch(this.db, rows, prepared);
      if (result.start) {
        // Recompute the nodes the database just stored, to keep them for proofs.
        const leaves = new Map(rows.map((row) => [row.id, hexToBytes(row.leafHash)]));
        const after = appendLeaves(unpackFrontier(result.start.size, result.start.frontier), result.inserted.map((r) => leaves.get(r.id)!), this.hasher);
        this.edge = after.edge;
        this.log.appended(after.nodes, result.checkpoint.stored && prepared ? { ...prepared, previousSize: result.checkpoint.previous } : undefined);
      }
      const stored = new Map(result.inserted.map((r) => [r.id, r.logIndex]));
      for (const p of batch) {
        p.resolve(
          p.rows.map((row) => {
            const logIndex = stored.get(row.id);
            return { inserted: logIndex !== undefined, logIndex: logIndex ?? null };
          }),
        );
      }
    } catch (err) {
      this.edge = undefined;
      // One request the database refuses must not fail its neighbours: retry them one by one (not
      // when the database itself cannot serve: every retry would fail the same way).
      if (batch.length > 1 && !databaseFailure(err)) {
        for (const p of batch) await this.store([p]);
        return;
      }
      for (const p of batch) p.reject(err);
    }
  }

  /**
   * The checkpoint of the tree this batch makes if the edge is still the one this instance last
   * saw and every release in the batch is new. A wrong guess costs nothing but the signature:
   * the database stores the checkpoint only for the tree it actually has, and a note that was
   * not stored is never shown to anyone.
   */
  private async predict(batch: Pending[]): Promise<CheckpointToStore | undefined> {
    if (!this.edge) return undefined;
    const seen = new Set<string>();
    const leaves: Uint8Array[] = [];
    for (const row of batch.flatMap((p) => p.rows)) {
      const key = `${row.model}@${row.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      leaves.push(hexToBytes(row.leafHash));
    }
    const next = appendLeaves(this.edge, leaves, this.hasher).edge;
    return this.log.prepareCheckpoint(next.size, edgeRoot(next, this.hasher));
  }
}
