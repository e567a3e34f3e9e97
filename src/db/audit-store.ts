// The audit_events table and its hash chain (audit_seal and audit_event_text in the keys
// migration). Events are written in the transaction of the action they record.
import type { AuditEvent } from '../core/audit-event.ts';
import type { Database, Prisma, Tx } from './client.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  details?: Record<string, unknown>;
  at: Date;
}

export async function recordAudit(tx: Tx, entry: AuditEntry): Promise<void> {
  await tx.auditEvent.create({
    data: { actor: entry.actor, action: entry.action, target: entry.target, details: (entry.details ?? {}) as Prisma.InputJsonObject, at: entry.at },
  });
}

/** The same insert in one driver statement, for paths that cannot afford Prisma (refused logins). */
export async function recordAuditFast(db: Pick<Database, 'query'>, entry: AuditEntry): Promise<void> {
  await db.query('INSERT INTO "audit_events" ("at", "actor", "action", "target", "details") VALUES ($1, $2, $3, $4, $5::jsonb)', [
    entry.at,
    entry.actor,
    entry.action,
    entry.target,
    JSON.stringify(entry.details ?? {}),
  ]);
}

/** Seals up to `maxRows` recorded events into the chain; returns how many. */
export async function sealAuditEvents(db: Pick<Database, 'query'>, maxRows: number): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT "audit_seal"($1::integer) AS "n"', [maxRows]);
  return row?.n ?? 0;
}

/** A sealed event as read: seq (a bigint) as text. */
export type AuditEventRow = Omit<AuditEvent, 'seq'> & { seq: string };

/** Sealed events after `afterSeq`, in chain order, optionally of one action. */
export async function sealedEvents(db: Pick<Database, 'query'>, query: { afterSeq: number; action?: string | undefined; limit: number }): Promise<AuditEventRow[]> {
  const rows = await db.query<AuditEventRow>(
    `SELECT e."seq"::text AS "seq", e."id"::text AS "id", e."at", e."actor", e."action", e."target", e."details", e."prev_hash" AS "prevHash", e."hash"
     FROM "audit_events" e WHERE e."seq" > $1::bigint AND ($2::text IS NULL OR e."action" = $2) ORDER BY e."seq" LIMIT $3`,
    [String(query.afterSeq), query.action ?? null, query.limit],
  );
  // PGlite returns jsonb as text.
  return rows.map((r) => ({ ...r, details: typeof r.details === 'string' ? JSON.parse(r.details) : r.details }));
}

/** A sealed event with every column the chain hashes, as audit_event_text renders them. */
export interface ChainRow {
  seq: string;
  id: string;
  at_ms: string;
  actor: string;
  action: string;
  target: string;
  details: string;
  prev_hash: Uint8Array | null;
  hash: Uint8Array | null;
}

export async function chainRows(db: Pick<Database, 'query'>, afterSeq: number, limit: number): Promise<ChainRow[]> {
  return db.query<ChainRow>(
    `SELECT e."seq"::text AS "seq", e."id"::text AS "id", ((extract(epoch FROM e."at") * 1000)::bigint)::text AS "at_ms",
            e."actor", e."action", e."target", e."details"::text AS "details", e."prev_hash", e."hash"
     FROM "audit_events" e WHERE e."seq" > $1::bigint ORDER BY e."seq" LIMIT $2::integer`,
    [String(afterSeq), limit],
  );
}

/** The chain's head row and how many events wait to be sealed. */
export async function chainHead(db: Pick<Database, 'query'>): Promise<{ head: { seq: string; hash: Uint8Array } | undefined; unsealed: number }> {
  const [head] = await db.query<{ seq: string; hash: Uint8Array }>('SELECT "seq"::text AS "seq", "hash" FROM "audit_head" WHERE "id" = 1');
  const [count] = await db.query<{ unsealed: string }>('SELECT count(*)::text AS "unsealed" FROM "audit_events" WHERE "seq" IS NULL');
  return { head, unsealed: Number(count?.unsealed ?? 0) };
}
