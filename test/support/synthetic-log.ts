// A big log without signing: synthetic leaves (random bytes, stored with their data, as the
// writer stores real ones) appended straight through tlog_append, then one checkpoint signed by
// the service. For the tiles tests and bench:tiles, which need trees of 70,000 to 1,000,000
// entries; the entries are not release signatures (an entry bundle holds them all the same).
import { randomBytes } from 'node:crypto';
import type { Database } from '../../src/db/client.ts';
import { appendToLog, readTree } from '../../src/db/log-store.ts';
import { nodeLogHasher } from '../../src/services/support/node-hasher.ts';

/** Appends synthetic leaves until the tree has `size` entries; returns how many it appended. */
export async function growLog(db: Database, size: number, batch = 5000): Promise<number> {
  let current = (await readTree(db)).size;
  const from = current;
  while (current < size) {
    const n = Math.min(batch, size - current);
    const leaves = Array.from({ length: n }, () => {
      const data = new Uint8Array(randomBytes(48 + (current % 64)));
      return { hash: nodeLogHasher.hashLeaf(data), data };
    });
    await db.sqlTransaction((s) => appendToLog(s, leaves));
    current += n;
  }
  return current - from;
}
