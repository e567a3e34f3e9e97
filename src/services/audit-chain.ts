// The audit trail's hash chain, checked from the database rows. audit_seal (the keys migration)
// links each event to the previous one: hash = SHA-256(prev_hash || text), where text is
// audit_event_text's one-field-a-line rendering. This file recomputes the same from the same
// columns and names the first event where the chain breaks.
import { createHash } from 'node:crypto';
import { chainHead, chainRows } from '../db/audit-store.ts';
import type { Database } from '../db/client.ts';

export interface ChainProblem {
  seq: number;
  id: string | null;
  problem: string;
}

export interface ChainReport {
  ok: boolean;
  /** Sealed events checked. */
  checked: number;
  /** Events recorded but not yet sealed (normally only the last fraction of a second's). */
  unsealed: number;
  head: { seq: number; hash: string };
  firstBad: ChainProblem | null;
}

const ZERO = Buffer.alloc(32);
const PAGE = 5000;

export function eventText(r: { seq: string; id: string; at_ms: string; actor: string; action: string; target: string; details: string }): string {
  return `${r.seq}\n${r.id}\n${r.at_ms}\n${r.actor}\n${r.action}\n${r.target}\n${r.details}`;
}

export async function verifyAuditChain(db: Pick<Database, 'query'>): Promise<ChainReport> {
  const { head, unsealed } = await chainHead(db);
  const report = (checked: number, firstBad: ChainProblem | null): ChainReport => ({
    ok: firstBad === null,
    checked,
    unsealed,
    head: { seq: Number(head?.seq ?? 0), hash: Buffer.from(head?.hash ?? ZERO).toString('hex') },
    firstBad,
  });
  let prev: Buffer = ZERO;
  let expected = 1;
  let after = 0;
  for (;;) {
    const rows = await chainRows(db, after, PAGE);
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq !== expected) return report(expected - 1, { seq: expected, id: null, problem: `event ${expected} is missing (the next sealed event is ${seq})` });
      if (!r.prev_hash || !Buffer.from(r.prev_hash).equals(prev)) {
        return report(seq - 1, { seq, id: r.id, problem: `event ${seq} does not follow event ${seq - 1} (its previous hash differs): an event before it was changed, removed or moved` });
      }
      const hash = createHash('sha256').update(prev).update(eventText(r), 'utf8').digest();
      if (!r.hash || !hash.equals(Buffer.from(r.hash))) {
        return report(seq - 1, { seq, id: r.id, problem: `event ${seq} (id ${r.id}) was changed after it was sealed: its content does not hash to its recorded hash` });
      }
      prev = hash;
      expected++;
    }
    if (rows.length < PAGE) break;
    after = expected - 1;
  }
  const sealed = expected - 1;
  if (head && Number(head.seq) !== sealed) {
    return report(sealed, { seq: Number(head.seq), id: null, problem: `the chain head says ${head.seq} events, ${sealed} are there: events at the end were removed` });
  }
  if (head && sealed > 0 && !Buffer.from(head.hash).equals(prev)) {
    return report(sealed, { seq: sealed, id: null, problem: 'the chain head does not match the last event' });
  }
  return report(sealed, null);
}
