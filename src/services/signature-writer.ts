// Writes signatures in batches. Requests that arrive while a write is in flight queue up and go
// to the database together in the next statement, so N concurrent signing requests cost one
// lock, one statement and one commit instead of N ("natural batching": no timer, a lone request
// is written at once). This is the same idea as Tessera's sequencer, and it is where log indexes
// are assigned: the statement that stores a batch locks the log's edge, numbers the new
// signatures from the log's size, and appends their leaves (see tlog.ts for the whole design).
//
// A signature is acknowledged only after that statement (signature, audit event, log index,
// tree nodes, usually the checkpoint) has committed.
import { bytesToHex, hexToBytes } from '../core/bytes.ts';
import { appendLeaves, edgeRoot, unpackFrontier, type StoredNode, type TreeEdge } from '../core/tlog/compact-range.ts';
import type { Database } from '../db/client.ts';
import { isConnectionError } from '../db/errors.ts';

export interface SignatureRow {
  id: string;
  model: string;
  version: string;
  rootDigest: string;
  files: { path: string; sha256: string; size?: number | undefined }[];
  ignorePaths: string[];
  /** Base64 of the signed payload and of the signature, as they appear in the bundle. */
  payloadB64: string;
  signatureB64: string;
  kid: string;
  publisherId: string;
  createdAt: Date;
  actor: string;
  details: Record<string, unknown>;
  /** Hex RFC 6962 leaf hash of the signature's log entry (tlog/leaf.ts). */
  leafHash: string;
}

export interface WriteResult {
  /** False when (model, version) was already signed; nothing was written. */
  inserted: boolean;
  logIndex: number | null;
}

export interface PreparedCheckpoint {
  size: number;
  rootHash: Uint8Array;
  note: string;
  kid: string;
  timestamp: number;
  at: Date;
}

export interface WriterLogHooks {
  /** Signs the checkpoint of the tree a batch is expected to make, or undefined to leave it to the checkpointer. */
  prepareCheckpoint(size: number, rootHash: Uint8Array): PreparedCheckpoint | undefined;
  /** After a batch: the nodes it stored, and its checkpoint with the size of the one before, if stored. */
  appended(nodes: StoredNode[], checkpoint: (PreparedCheckpoint & { previousSize: number | null }) | undefined): void;
}

interface Pending {
  row: SignatureRow;
  size: number;
  resolve(result: WriteResult): void;
  reject(err: unknown): void;
}

// One statement stores a whole batch, with one JSON parameter (the same SQL works through pg and
// PGlite, and the bundle's base64 strings are reused rather than re-encoded):
// - `fresh`: the requests whose release is not signed yet (a release asked for twice in one
//   batch is stored once, the first time);
// - `seq`: tlog_append (see the tlog migration) locks the log's edge row, stores the tree nodes
//   of the fresh leaves and returns the edge as it was, whose size numbers the fresh rows; when
//   this instance knew the edge, it predicted the new tree and signed its checkpoint beforehand,
//   and tlog_append stores that checkpoint too if the prediction holds (so an acknowledged
//   signature is usually integrated by the same commit, with no second round trip);
// - the signatures, with their log indexes, and their audit events.
// It commits as one transaction, so an acknowledged signature always has its place in the tree.
// The existence check runs on the statement's snapshot, taken before the lock: a release stored
// by another instance in between makes the unique index refuse the statement (and the writer
// retry its rows singly) rather than number a row that is not inserted.
const INSERT_BATCH = `
  WITH input AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (
      "id" uuid, "model" text, "version" text, "rootDigest" text, "files" jsonb, "ignorePaths" jsonb,
      "payloadB64" text, "signatureB64" text, "kid" text, "publisherId" uuid, "createdAt" timestamptz,
      "actor" text, "details" jsonb, "leafHash" text
    )) WITH ORDINALITY AS t
  ), fresh AS MATERIALIZED (
    SELECT DISTINCT ON (i."model", i."version") i.* FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM "release_signatures" r WHERE r."model" = i."model" AND r."version" = i."version")
    ORDER BY i."model", i."version", i."ordinality"
  ), seq AS MATERIALIZED (
    SELECT a.* FROM (SELECT array_agg(decode(f."leafHash", 'hex') ORDER BY f."ordinality") AS leaves FROM fresh f) l,
         LATERAL "tlog_append"(l.leaves, $2::bigint, decode($3, 'hex'), $4, $5, $6::bigint, $7::timestamptz) a
  ), numbered AS (
    SELECT f.*, s."start_size" + row_number() OVER (ORDER BY f."ordinality") - 1 AS "logIndex" FROM fresh f, seq s
  ), ins AS (
    INSERT INTO "release_signatures"
      ("id", "model", "version", "root_digest", "files", "file_digests", "ignore_paths", "payload", "signature", "kid", "publisher_id", "created_at", "log_index")
    SELECT "id", "model", "version", "rootDigest", "files",
           ARRAY(SELECT f->>'sha256' FROM jsonb_array_elements("files") AS f),
           ARRAY(SELECT jsonb_array_elements_text("ignorePaths")),
           decode("payloadB64", 'base64'), decode("signatureB64", 'base64'), "kid", "publisherId", "createdAt", "logIndex"
    FROM numbered ORDER BY "logIndex"
    RETURNING "id", "log_index"
  ), audit AS (
    INSERT INTO "audit_events" ("at", "actor", "action", "target", "details")
    SELECT n."createdAt", n."actor", 'signature.create', 'signature:' || n."id"::text, n."details" || jsonb_build_object('logIndex', n."logIndex")
    FROM numbered n ORDER BY n."logIndex"
  )
  SELECT i."id"::text AS "id", i."log_index"::text AS "logIndex", s."start_size"::text AS "startSize", s."start_frontier" AS "startFrontier",
         s."cp_stored" AS "checkpointStored", s."cp_previous"::text AS "checkpointPrevious"
  FROM ins i, seq s ORDER BY i."log_index"`;

export class SignatureWriter {
  private queue: Pending[] = [];
  private flushing = false;
  /** The tree's edge after this instance's last batch (stale when other instances append). */
  private edge: TreeEdge | undefined;

  constructor(
    private readonly db: Database,
    private readonly log: WriterLogHooks,
    private readonly maxRows = 256,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  write(row: SignatureRow): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, size: row.payloadB64.length + 512, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        let bytes = 0;
        let n = 0;
        while (n < this.queue.length && n < this.maxRows && (n === 0 || bytes + this.queue[n]!.size <= this.maxBytes)) bytes += this.queue[n++]!.size;
        await this.store(this.queue.splice(0, n));
      }
    } finally {
      this.flushing = false;
    }
  }

  private async store(batch: Pending[]): Promise<void> {
    try {
      const prepared = this.predict(batch);
      const rows = await this.db.query<{
        id: string;
        logIndex: string;
        startSize: string;
        startFrontier: Uint8Array;
        checkpointStored: boolean;
        checkpointPrevious: string | null;
      }>(INSERT_BATCH, [
        JSON.stringify(batch.map((p) => p.row)),
        prepared ? String(prepared.size) : null,
        prepared ? bytesToHex(prepared.rootHash) : null,
        prepared?.note ?? null,
        prepared?.kid ?? null,
        prepared ? String(prepared.timestamp) : null,
        prepared?.at ?? null,
      ]);
      const stored = new Map(rows.map((r) => [r.id, Number(r.logIndex)]));
      if (rows.length > 0) {
        // Recompute the nodes the database just stored, to keep them for proofs.
        const leaves = new Map(batch.map((p) => [p.row.id, hexToBytes(p.row.leafHash)]));
        const before = unpackFrontier(Number(rows[0]!.startSize), new Uint8Array(rows[0]!.startFrontier));
        const after = appendLeaves(before, rows.map((r) => leaves.get(r.id)!));
        this.edge = after.edge;
        const first = rows[0]!;
        const checkpoint = first.checkpointStored && prepared ? { ...prepared, previousSize: first.checkpointPrevious === null ? null : Number(first.checkpointPrevious) } : undefined;
        this.log.appended(after.nodes, checkpoint);
      }
      for (const p of batch) {
        const logIndex = stored.get(p.row.id);
        p.resolve({ inserted: logIndex !== undefined, logIndex: logIndex ?? null });
      }
    } catch (err) {
      this.edge = undefined;
      // One row the database refuses must not fail its neighbours: retry them one by one.
      if (batch.length > 1 && !isConnectionError(err)) {
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
  private predict(batch: Pending[]): PreparedCheckpoint | undefined {
    if (!this.edge) return undefined;
    const seen = new Set<string>();
    const leaves: Uint8Array[] = [];
    for (const p of batch) {
      const key = `${p.row.model}@${p.row.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      leaves.push(hexToBytes(p.row.leafHash));
    }
    const next = appendLeaves(this.edge, leaves).edge;
    return this.log.prepareCheckpoint(next.size, edgeRoot(next));
  }
}
