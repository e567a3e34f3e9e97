// The tile cache of services/tile-hashes.ts: complete tiles in reused slots of one buffer, the
// right edge's partial rows beside them. What must hold whatever the order of reads: every row
// answered equals the stored tile (a slot reused for another tile never leaks into an answer),
// an answer is the caller's own copy, a cached tile costs no query and an evicted one does, and
// the cache stays within its budget.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../src/db/client.ts';
import { appendToLog } from '../../src/db/log-store.ts';
import { readTileHashes } from '../../src/db/tile-store.ts';
import { TileHashes } from '../../src/services/tile-hashes.ts';
import { nodeLogHasher } from '../../src/services/support/node-hasher.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('TileHashes: the tile cache', () => {
  let database: TestDatabase;
  const stored = new Map<number, string>();
  before(async () => {
    database = await createTestDatabase();
    // Six complete level-0 tiles and a partial seventh.
    const leaves = Array.from({ length: 6 * 256 + 40 }, () => {
      const data = new Uint8Array(randomBytes(32));
      return { hash: nodeLogHasher.hashLeaf(data), data };
    });
    await database.db.sqlTransaction((s) => appendToLog(s, leaves));
    for (let i = 0; i <= 6; i++) stored.set(i, Buffer.from(await readTileHashes(database.db, 0, i)).toString('hex'));
  });
  after(() => database.drop());

  /** The database, counting the tile reads that reach it. */
  const counting = () => {
    const counter = { reads: 0 };
    const db = { ...database.db, queryPrepared: (...args: Parameters<Database['queryPrepared']>) => (counter.reads++, database.db.queryPrepared(...args)) } as Database;
    return { db, counter };
  };

  it('answers every tile as stored through many evictions, in any order of reads', async () => {
    // A budget of three complete tiles (and the partial rows' eighth).
    const { db } = counting();
    const tiles = new TileHashes(db, Math.ceil((3 * 8192 * 8) / 7));
    const order = [0, 1, 2, 0, 3, 4, 0, 5, 6, 1, 2, 3, 6, 5, 4, 0, 0, 6, 2, 2, 1, 5];
    for (const i of order) {
      const row = await tiles.row(0, i, i === 6 ? 40 : 256);
      assert.equal(row.toString('hex'), stored.get(i), `tile ${i}`);
    }
  });

  it('reads a cached tile without a query, an evicted one with one, and answers copies', async () => {
    const { db, counter } = counting();
    const tiles = new TileHashes(db, Math.ceil((2 * 8192 * 8) / 7));
    await tiles.row(0, 0, 256);
    await tiles.row(0, 1, 256);
    assert.equal(counter.reads, 2);
    const first = await tiles.row(0, 0, 256);
    assert.equal(counter.reads, 2, 'tile 0 is cached');
    first.fill(0);
    assert.equal((await tiles.row(0, 0, 256)).toString('hex'), stored.get(0), 'an answer is a copy');
    await tiles.row(0, 2, 256); // evicts tile 1, the least recently used
    await tiles.row(0, 1, 256);
    assert.equal(counter.reads, 4, 'tile 1 was evicted and read again');
    await tiles.row(0, 6, 40);
    await tiles.row(0, 6, 40);
    assert.equal(counter.reads, 5, 'the partial row is cached too');
  });

  it('caches nothing with no budget', async () => {
    const { db, counter } = counting();
    const tiles = new TileHashes(db, 0);
    for (let i = 0; i < 3; i++) assert.equal((await tiles.row(0, 0, 256)).toString('hex'), stored.get(0));
    assert.equal(counter.reads, 3);
  });
});
