// The audit trail: one row per action, written in the same transaction as the action itself
// (db/audit-store.ts recordAudit) so that nothing happens without a record and no record
// describes something that did not happen. Rows are then sealed into a hash chain (audit_seal in
// the keys migration; audit-chain.ts verifies it); the composition root seals periodically.
import type { Database } from '../db/client.ts';
import type { AuditEvent } from '../core/audit-event.ts';
import { recordAuditFast, sealAuditEvents, sealedEvents } from '../db/audit-store.ts';
import { verifyAuditChain, type ChainReport } from './audit-chain.ts';
import { singleFlight, type SingleFlight } from './support/periodic.ts';

const SEAL_BATCH = 1000;

export class AuditService {
  /** Seals everything recorded before the call; resolves with how many events it sealed. */
  readonly seal: SingleFlight<number>;

  constructor(private readonly db: Database) {
    this.seal = singleFlight(async () => {
      let total = 0;
      for (;;) {
        const n = await sealAuditEvents(this.db, SEAL_BATCH);
        total += n;
        if (n < SEAL_BATCH) return total;
      }
    });
  }

  /** Records a refused authentication (never the token itself). */
  async refused(entry: { code: string; method: string; route: string; ip: string; at: Date }): Promise<void> {
    await recordAuditFast(this.db, { at: entry.at, actor: 'anonymous', action: 'auth.refused', target: `route:${entry.method} ${entry.route}`, details: { code: entry.code, ip: entry.ip } });
  }

  /** Sealed events in chain order, after `cursor` (a seq). */
  async list(query: { limit: number; cursor?: number | undefined; action?: string | undefined }): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
    await this.seal();
    const rows = await sealedEvents(this.db, { afterSeq: query.cursor ?? 0, action: query.action, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    return {
      items: page.map((r) => ({ ...r, seq: Number(r.seq) })),
      nextCursor: rows.length > query.limit ? page[page.length - 1]!.seq : null,
    };
  }

  /** Seals what is recorded, then recomputes the whole chain (as `modelsign admin audit-verify`). */
  async verifyChain(): Promise<ChainReport> {
    await this.seal();
    return verifyAuditChain(this.db);
  }
}
