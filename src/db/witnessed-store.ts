// The witness-mode tables (witness_mode migration): the logs this deployment witnesses, each with
// its pinned verifier key, and the newest checkpoint it cosigned per log, moved forward only by a
// compare-and-swap on the size it held (a lost race is the spec's 409). Times come from the
// caller's clock.
import type { SqlSession } from './client.ts';

type Query = Pick<SqlSession, 'query'>;

export interface WitnessedLogRow {
  origin: string;
  vkey: string;
}

export interface WitnessedCheckpointRow {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** The note as the log signed it, with this witness's cosignature line. */
  note: string;
}

const toBytes = (v: Uint8Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

export async function listWitnessedLogs(db: Query): Promise<WitnessedLogRow[]> {
  return db.query<WitnessedLogRow>('SELECT "origin", "vkey" FROM "witnessed_logs" ORDER BY "origin"');
}

/** Adds a log with its key unless it is there; returns the key stored for it (the given one, or the pinned one). */
export async function addWitnessedLog(db: Query, origin: string, vkey: string, now: Date): Promise<string> {
  await db.query('INSERT INTO "witnessed_logs" ("origin", "vkey", "created_at") VALUES ($1, $2, $3) ON CONFLICT ("origin") DO NOTHING', [origin, vkey, now]);
  const [row] = await db.query<{ vkey: string }>('SELECT "vkey" FROM "witnessed_logs" WHERE "origin" = $1', [origin]);
  return row!.vkey;
}

/** Replaces a log's pinned key (the audited admin action); false when the log is not witnessed. */
export async function setWitnessedLogKey(db: Query, origin: string, vkey: string, now: Date): Promise<boolean> {
  const rows = await db.query('UPDATE "witnessed_logs" SET "vkey" = $2, "key_changed_at" = $3 WHERE "origin" = $1 RETURNING "origin"', [origin, vkey, now]);
  return rows.length === 1;
}

export async function readWitnessedCheckpoint(db: Query, origin: string): Promise<WitnessedCheckpointRow | undefined> {
  const [row] = await db.query<{ origin: string; size: string; rootHash: Uint8Array; note: string }>(
    'SELECT "origin", "size"::text AS "size", "root_hash" AS "rootHash", "note" FROM "witnessed_checkpoints" WHERE "origin" = $1',
    [origin],
  );
  return row && { origin: row.origin, size: Number(row.size), rootHash: toBytes(row.rootHash), note: row.note };
}

/**
 * Stores `next` for its origin if the witness still holds `heldSize` there (undefined: nothing
 * yet); false when another request moved it first (the caller answers 409 with what is held now).
 */
export async function swapWitnessedCheckpoint(db: Query, heldSize: number | undefined, next: WitnessedCheckpointRow, now: Date): Promise<boolean> {
  const rows =
    heldSize === undefined
      ? await db.query(
          'INSERT INTO "witnessed_checkpoints" ("origin", "size", "root_hash", "note", "updated_at") VALUES ($1, $2::bigint, $3, $4, $5) ON CONFLICT ("origin") DO NOTHING RETURNING "origin"',
          [next.origin, String(next.size), next.rootHash, next.note, now],
        )
      : await db.query(
          'UPDATE "witnessed_checkpoints" SET "size" = $2::bigint, "root_hash" = $3, "note" = $4, "updated_at" = $5 WHERE "origin" = $1 AND "size" = $6::bigint RETURNING "origin"',
          [next.origin, String(next.size), next.rootHash, next.note, now, String(heldSize)],
        );
  return rows.length === 1;
}
