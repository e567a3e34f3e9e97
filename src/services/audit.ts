// The audit trail: one row per action, written in the same transaction as the action itself so
// that nothing happens without a record and no record describes something that did not happen.
// Rows are then sealed into a hash chain (audit_seal in the keys migration; audit-chain.ts
// verifies it).
import type { Database, Prisma, PrismaClient } from '../db/client.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  details?: Record<string, unknown>;
  at: Date;
}

type Tx = Pick<PrismaClient, 'auditEvent'>;

export async function recordAudit(tx: Tx, entry: AuditEntry): Promise<void> {
  await tx.auditEvent.create({
    data: { actor: entry.actor, action: entry.action, target: entry.target, details: (entry.details ?? {}) as Prisma.InputJsonObject, at: entry.at },
  });
}

export interface AuditEventView {
  seq: number;
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string;
  details: unknown;
  prevHash: string;
  hash: string;
}

/**
 * Seals recorded events into the hash chain (audit_seal) every `intervalMs`, and reads the
 * chain back in order. Sealing runs on every instance; the database serialises it.
 */
export class AuditService {
  private timer: NodeJS.Timeout | undefined;
  private sealing: Promise<number> | undefined;

  constructor(
    private readonly db: Database,
    private readonly intervalMs = 500,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.seal().catch(this.onError), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Seals everything recorded so far; resolves with how many events it sealed. */
  seal(): Promise<number> {
    this.sealing ??= (async () => {
      let total = 0;
      for (;;) {
        const [row] = await this.db.query<{ n: number }>('SELECT "audit_seal"(1000) AS "n"');
        total += row?.n ?? 0;
        if ((row?.n ?? 0) < 1000) return total;
      }
    })().finally(() => (this.sealing = undefined));
    return this.sealing;
  }

  /** Records a refused authentication (never the token itself). */
  async refused(entry: { code: string; method: string; route: string; ip: string; at: Date }): Promise<void> {
    await this.db.query('INSERT INTO "audit_events" ("at", "actor", "action", "target", "details") VALUES ($1, $2, $3, $4, $5::jsonb)', [
      entry.at,
      'anonymous',
      'auth.refused',
      `route:${entry.method} ${entry.route}`,
      JSON.stringify({ code: entry.code, ip: entry.ip }),
    ]);
  }

  /** Sealed events in chain order, after `cursor` (a seq). */
  async list(query: { limit: number; cursor?: number | undefined; action?: string | undefined }): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
    await this.seal();
    const rows = await this.db.query<{ seq: string; id: string; at: Date; actor: string; action: string; target: string; details: unknown; prev_hash: Uint8Array; hash: Uint8Array }>(
      `SELECT e."seq"::text AS "seq", e."id"::text AS "id", e."at", e."actor", e."action", e."target", e."details", e."prev_hash", e."hash"
       FROM "audit_events" e WHERE e."seq" > $1::bigint AND ($2::text IS NULL OR e."action" = $2) ORDER BY e."seq" LIMIT $3`,
      [String(query.cursor ?? 0), query.action ?? null, query.limit + 1],
    );
    const page = rows.slice(0, query.limit);
    return {
      items: page.map((r) => ({
        seq: Number(r.seq),
        id: r.id,
        at: r.at,
        actor: r.actor,
        action: r.action,
        target: r.target,
        details: typeof r.details === 'string' ? JSON.parse(r.details) : r.details,
        prevHash: Buffer.from(r.prev_hash).toString('hex'),
        hash: Buffer.from(r.hash).toString('hex'),
      })),
      nextCursor: rows.length > query.limit ? page[page.length - 1]!.seq : null,
    };
  }
}
