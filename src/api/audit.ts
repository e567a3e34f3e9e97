// How an audit event is shown (GET /v1/admin/audit, the console): hashes in hex.
import type { AuditEvent } from '../core/audit-event.ts';
import { bytesToHex } from '../core/bytes.ts';
import type { Wire } from './wire.ts';

type AuditEventView = Wire['AuditPage']['items'][number];

export function auditEventView(e: AuditEvent): AuditEventView {
  return {
    seq: e.seq,
    id: e.id,
    at: e.at.toISOString(),
    actor: e.actor,
    action: e.action,
    target: e.target,
    details: e.details as AuditEventView['details'],
    prevHash: bytesToHex(e.prevHash),
    hash: bytesToHex(e.hash),
  };
}
