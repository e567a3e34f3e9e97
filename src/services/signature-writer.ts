// Writes signatures in batches. Requests that arrive while a write is in flight queue up and go
// to the database together in the next transaction, so N concurrent signing requests cost one
// lock, a few statements and one commit instead of N ("natural batching": no timer, a lone
// request is written at once). This is the same idea as Tessera's sequencer, and it is where log
// indexes are assigned: the transaction that stores a batch locks the log's edge, numbers the new
// signatures from the log's size, and appends their leaves (see tlog.ts for the whole design).
//
// A signature is acknowledged only after that transaction (signature, audit event, log index,
// tree nodes) has committed.
import { hexToBytes } from '../core/bytes.ts';
import type { StoredNode } from '../core/tlog/compact-range.ts';
import type { Database } from '../db/client.ts';
import { isConnectionError } from '../db/errors.ts';
import { appendToTree, lockTreeEdge } from './tlog-store.ts';

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

interface Pending {
  row: SignatureRow;
  size: number;
  resolve(result: WriteResult): void;
  reject(err: unknown): void;
}

// One JSON parameter carries the whole batch: the same SQL works through pg and PGlite, and the
// bundle's base64 strings are reused rather than re-encoded. $2 is the log size read under the
// log's row lock. Every insert takes that lock first, so "not already signed" cannot change
// under this statement; a release asked for twice in one batch is stored once (the first).
// There is no ON CONFLICT: a conflict would leave a gap in the numbering, so it fails the batch
// instead (and the writer retries its rows one by one).
const INSERT_BATCH = `
  WITH input AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (
      "id" uuid, "model" text, "version" text, "rootDigest" text, "files" jsonb, "ignorePaths" jsonb,
      "payloadB64" text, "signatureB64" text, "kid" text, "publisherId" uuid, "createdAt" timestamptz,
      "actor" text, "details" jsonb
    )) WITH ORDINALITY AS t
  ), fresh AS (
    SELECT DISTINCT ON (i."model", i."version") i.* FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM "release_signatures" r WHERE r."model" = i."model" AND r."version" = i."version")
    ORDER BY i."model", i."version", i."ordinality"
  ), numbered AS (
    SELECT f.*, $2::bigint + row_number() OVER (ORDER BY f."ordinality") - 1 AS "logIndex" FROM fresh f
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
  SELECT "id"::text AS "id", "log_index"::text AS "logIndex" FROM ins ORDER BY "log_index"`;

export class SignatureWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: Database,
    private readonly onAppended: (nodes: StoredNode[]) => void,
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
      const leaves = new Map(batch.map((p) => [p.row.id, hexToBytes(p.row.leafHash)]));
      const { rows, nodes } = await this.db.transaction(async (session) => {
        const edge = await lockTreeEdge(session);
        const rows = await session.query<{ id: string; logIndex: string }>(INSERT_BATCH, [JSON.stringify(batch.map((p) => p.row), omitLeaf), String(edge.size)]);
        const appended = await appendToTree(session, edge, rows.map((r) => leaves.get(r.id)!));
        return { rows, nodes: appended.nodes };
      });
      const stored = new Map(rows.map((r) => [r.id, Number(r.logIndex)]));
      if (nodes.length > 0) this.onAppended(nodes);
      for (const p of batch) {
        const logIndex = stored.get(p.row.id);
        p.resolve({ inserted: logIndex !== undefined, logIndex: logIndex ?? null });
      }
    } catch (err) {
      // One row the database refuses must not fail its neighbours: retry them one by one.
      if (batch.length > 1 && !isConnectionError(err)) {
        for (const p of batch) await this.store([p]);
        return;
      }
      for (const p of batch) p.reject(err);
    }
  }
}

function omitLeaf(key: string, value: unknown): unknown {
  return key === 'leafHash' ? undefined : value;
}
