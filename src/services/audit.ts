// The audit trail: one row per action, written in the same transaction as the action itself so
// that nothing happens without a record and no record describes something that did not happen.
import type { Prisma, PrismaClient } from '../db/client.ts';

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
