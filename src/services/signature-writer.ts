// Writes signatures in batches. Requests that arrive while a write is in flight queue up and go
// to the database together in the next statement, so N concurrent signing requests cost one
// round trip and one commit instead of N ("natural batching": no timer, a lone request is
// written at once). This is the same idea as Tessera's sequencer, and the place where log
// indexes will be assigned inside the storing transaction.
//
// A signature is acknowledged only after the statement that stores it (and its audit event)
// has committed.
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
}

interface Pending {
  row: SignatureRow;
  size: number;
  resolve(inserted: boolean): void;
  reject(err: unknown): void;
}

// One JSON parameter carries the whole batch: the same SQL works through pg and PGlite, and the
// bundle's base64 strings are reused rather than re-encoded.
const INSERT_BATCH = `
  WITH input AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (
      "id" uuid, "model" text, "version" text, "rootDigest" text, "files" jsonb, "ignorePaths" jsonb,
      "payloadB64" text, "signatureB64" text, "kid" text, "publisherId" uuid, "createdAt" timestamptz,
      "actor" text, "details" jsonb
    )) WITH ORDINALITY AS t
  ), ins AS (
    INSERT INTO "release_signatures"
      ("id", "model", "version", "root_digest", "files", "file_digests", "ignore_paths", "payload", "signature", "kid", "publisher_id", "created_at")
    SELECT "id", "model", "version", "rootDigest", "files",
           ARRAY(SELECT f->>'sha256' FROM jsonb_array_elements("files") AS f),
           ARRAY(SELECT jsonb_array_elements_text("ignorePaths")),
           decode("payloadB64", 'base64'), decode("signatureB64", 'base64'), "kid", "publisherId", "createdAt"
    FROM input ORDER BY "ordinality"
    ON CONFLICT ("model", "version") DO NOTHING
    RETURNING "id"
  ), audit AS (
    INSERT INTO "audit_events" ("at", "actor", "action", "target", "details")
    SELECT i."createdAt", i."actor", 'signature.create', 'signature:' || i."id"::text, i."details"
    FROM input i JOIN ins ON ins."id" = i."id" ORDER BY i."ordinality"
  )
  SELECT "id"::text AS "id" FROM ins`;

export class SignatureWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: Database,
    private readonly maxRows = 256,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  /** Resolves true when the row was stored, false when (model, version) already existed. */
  write(row: SignatureRow): Promise<boolean> {
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
      const rows = await this.db.query<{ id: string }>(INSERT_BATCH, [JSON.stringify(batch.map((p) => p.row))]);
      const inserted = new Set(rows.map((r) => r.id));
      for (const p of batch) p.resolve(inserted.has(p.row.id));
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
