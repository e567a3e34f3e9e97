// Whether the database answers at all (readiness).
import type { Database } from './client.ts';

export async function pingDatabase(db: Database): Promise<void> {
  await db.query('SELECT 1');
}
