// Whether the database answers at all, and whether it takes writes (readiness).
import type { Database } from './client.ts';

/** Resolves with whether the database refuses writes; rejects when it does not answer. */
export async function pingDatabase(db: Database): Promise<{ readOnly: boolean }> {
  const [row] = await db.query<{ readOnly: boolean }>(`SELECT current_setting('transaction_read_only') = 'on' AS "readOnly"`);
  return { readOnly: row?.readOnly === true };
}
