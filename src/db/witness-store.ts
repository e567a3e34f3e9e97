// The witness tables (witness migration): each witness's state with its lease, the cosignatures
// it returned, the alarms it raised, and the largest checkpoint size served. Times come from the
// caller's clock, never the database's.
import type { SqlSession } from './client.ts';

type Query = Pick<SqlSession, 'query'>;

export interface WitnessStateRow {
  name: string;
  keyId: string;
  oldSize: number;
  cosignedSize: number | null;
  cosignedAt: number | null;
  refusedSize: number | null;
  /** The checkpoint size it was last sent (or is being sent). */
  targetSize: number | null;
  status: string;
  detail: string | null;
  failures: number;
  nextAt: Date;
}

interface RawState {
  name: string;
  keyId: string;
  oldSize: string;
  cosignedSize: string | null;
  cosignedAt: string | null;
  refusedSize: string | null;
  targetSize: string | null;
  status: string;
  detail: string | null;
  failures: number;
  nextAt: Date;
}

const STATE_COLUMNS = `w."name", w."key_id" AS "keyId", w."old_size"::text AS "oldSize", w."cosigned_size"::text AS "cosignedSize", w."cosigned_at"::text AS "cosignedAt",
  w."refused_size"::text AS "refusedSize", w."target_size"::text AS "targetSize", w."status", w."detail", w."failures", w."next_at" AS "nextAt"`;
const num = (v: string | null) => (v === null ? null : Number(v));
const toState = (r: RawState): WitnessStateRow => ({ ...r, oldSize: Number(r.oldSize), cosignedSize: num(r.cosignedSize), cosignedAt: num(r.cosignedAt), refusedSize: num(r.refusedSize), targetSize: num(r.targetSize), nextAt: new Date(r.nextAt) });

/** A state row for each configured witness that has none yet (first contact: old size 0). */
export async function ensureWitnessStates(db: Query, witnesses: readonly { name: string; keyId: string }[], now: Date): Promise<void> {
  for (const w of witnesses) {
    await db.query('INSERT INTO "witness_state" ("name", "key_id", "next_at", "updated_at") VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING', [w.name, w.keyId, now]);
  }
}

export async function witnessStates(db: Query): Promise<WitnessStateRow[]> {
  return (await db.query<RawState>(`SELECT ${STATE_COLUMNS} FROM "witness_state" w ORDER BY w."name", w."key_id"`)).map(toState);
}

/**
 * Takes the witness's lease until `until` if it is due at `now` and no other instance holds an
 * unexpired lease: one request in flight per witness across all instances. The state, or undefined.
 */
export async function leaseWitness(db: Query, w: { name: string; keyId: string }, owner: string, now: Date, until: Date): Promise<WitnessStateRow | undefined> {
  const [row] = await db.query<RawState>(
    `UPDATE "witness_state" w SET "lease_owner" = $3, "lease_until" = $5
     WHERE w."name" = $1 AND w."key_id" = $2 AND w."next_at" <= $4 AND (w."lease_until" IS NULL OR w."lease_until" < $4)
     RETURNING ${STATE_COLUMNS}`,
    [w.name, w.keyId, owner, now, until],
  );
  return row ? toState(row) : undefined;
}

/** Records the size the lease holder is about to send (other witnesses are then sent the same one). */
export async function targetWitness(db: Query, w: { name: string; keyId: string }, owner: string, size: number): Promise<void> {
  await db.query('UPDATE "witness_state" SET "target_size" = $4::bigint WHERE "name" = $1 AND "key_id" = $2 AND "lease_owner" = $3', [w.name, w.keyId, owner, String(size)]);
}

export interface WitnessOutcome {
  oldSize?: number;
  cosignedSize?: number;
  cosignedAt?: number;
  refusedSize?: number;
  status: string;
  detail: string | null;
  failures: number;
  nextAt: Date;
}

/** Records the outcome of a request and releases the lease (only the holder's). */
export async function settleWitness(db: Query, w: { name: string; keyId: string }, owner: string, o: WitnessOutcome, now: Date): Promise<void> {
  await db.query(
    `UPDATE "witness_state" SET
       "old_size" = COALESCE($4::bigint, "old_size"),
       "cosigned_size" = COALESCE($5::bigint, "cosigned_size"),
       "cosigned_at" = COALESCE($6::bigint, "cosigned_at"),
       "refused_size" = COALESCE($7::bigint, "refused_size"),
       "status" = $8, "detail" = $9, "failures" = $10, "next_at" = $11, "updated_at" = $12,
       "lease_owner" = NULL, "lease_until" = NULL
     WHERE "name" = $1 AND "key_id" = $2 AND "lease_owner" = $3`,
    [w.name, w.keyId, owner, o.oldSize ?? null, o.cosignedSize ?? null, o.cosignedAt ?? null, o.refusedSize ?? null, o.status, o.detail, o.failures, o.nextAt, now],
  );
}

export interface CosignatureRow {
  witness: string;
  keyId: string;
  size: number;
  kid: string;
  line: string;
  timestamp: number;
}

export async function storeCosignature(db: Query, c: CosignatureRow, now: Date): Promise<void> {
  await db.query(
    'INSERT INTO "witness_cosignatures" ("witness", "key_id", "size", "kid", "line", "timestamp", "created_at") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
    [c.witness, c.keyId, String(c.size), c.kid, c.line, String(c.timestamp), now],
  );
}

/** Cosignatures of checkpoints of at least `minSize` leaves by log key `kid`, newest checkpoint first. */
export async function cosignaturesFrom(db: Query, kid: string, minSize: number): Promise<CosignatureRow[]> {
  const rows = await db.query<{ witness: string; keyId: string; size: string; kid: string; line: string; timestamp: string }>(
    `SELECT c."witness", c."key_id" AS "keyId", c."size"::text AS "size", c."kid", c."line", c."timestamp"::text AS "timestamp"
     FROM "witness_cosignatures" c WHERE c."kid" = $1 AND c."size" >= $2::bigint ORDER BY c."size" DESC, c."witness"`,
    [kid, String(minSize)],
  );
  return rows.map((r) => ({ ...r, size: Number(r.size), timestamp: Number(r.timestamp) }));
}

export async function recordWitnessAlarm(db: Query, a: { witness: string; kind: string; size: number | null; detail: string }, now: Date): Promise<void> {
  await db.query('INSERT INTO "witness_alarms" ("witness", "kind", "size", "detail", "at") VALUES ($1, $2, $3, $4, $5)', [a.witness, a.kind, a.size === null ? null : String(a.size), a.detail, now]);
}

export async function witnessAlarms(db: Query): Promise<{ witness: string; kind: string; size: number | null; detail: string; at: Date }[]> {
  const rows = await db.query<{ witness: string; kind: string; size: string | null; detail: string; at: Date }>('SELECT a."witness", a."kind", a."size"::text AS "size", a."detail", a."at" FROM "witness_alarms" a ORDER BY a."id"');
  return rows.map((r) => ({ ...r, size: num(r.size), at: new Date(r.at) }));
}

/** The largest size served so far, raised to `size` if that is larger; returns the result. */
export async function raiseServedSize(db: Query, size: number): Promise<number> {
  const [row] = await db.query<{ size: string }>('UPDATE "tlog_served" SET "size" = GREATEST("size", $1::bigint) RETURNING "size"::text AS "size"', [String(size)]);
  return Number(row?.size ?? size);
}

export async function servedSize(db: Query): Promise<number> {
  const [row] = await db.query<{ size: string }>('SELECT "size"::text AS "size" FROM "tlog_served"');
  return Number(row?.size ?? 0);
}

/** The stored checkpoint of `size` by log key `kid`, if any. */
export async function checkpointOf(db: Query, size: number, kid: string): Promise<{ size: number; note: string; kid: string; timestamp: number } | undefined> {
  const [row] = await db.query<{ size: string; note: string; kid: string; timestamp: string }>(
    'SELECT c."size"::text AS "size", c."note", c."kid", c."timestamp"::text AS "timestamp" FROM "tlog_checkpoints" c WHERE c."size" = $1::bigint AND c."kid" = $2',
    [String(size), kid],
  );
  return row ? { size: Number(row.size), note: row.note, kid: row.kid, timestamp: Number(row.timestamp) } : undefined;
}
