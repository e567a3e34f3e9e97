// tlog_tiles (tile_rows migration): every complete hash tile as one row, written by tlog_append in
// the transaction that stores the tile's last node, and by the migration for a log made before it.
// Each row must be exactly its 256 nodes (the tiles API serves it, and proofs are computed from
// it), whatever the batches the leaves came in; an incomplete tile has none; rows never change.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { appendToLog, readTree } from '../../src/db/log-store.ts';
import { migrate, readMigrations } from '../../src/db/migrate.ts';
import { readTileHashes } from '../../src/db/tile-store.ts';
import { nodeLogHasher } from '../../src/services/support/node-hasher.ts';
import { createPostgresDatabase, createTestDatabase, TEST_DB, type TestDatabase } from '../support/db.ts';

const leaves = (n: number) =>
  Array.from({ length: n }, () => {
    const data = new Uint8Array(randomBytes(40));
    return { hash: nodeLogHasher.hashLeaf(data), data };
  });

/** The stored tile rows, and each tile as aggregated from its nodes, by `level/idx`. */
async function tileRows(db: Pick<Database, 'query'>): Promise<{ rows: Map<string, string>; fromNodes: Map<string, string> }> {
  const rows = await db.query<{ key: string; hashes: Uint8Array }>('SELECT "level" || \'/\' || "idx" AS "key", "hashes" FROM "tlog_tiles"');
  const fromNodes = await db.query<{ key: string; hashes: Uint8Array }>(
    `SELECT (n."level" / 8) || '/' || (n."idx" / 256) AS "key", string_agg(n."hash", ''::bytea ORDER BY n."idx") AS "hashes"
     FROM "tlog_nodes" n WHERE n."level" % 8 = 0 GROUP BY n."level" / 8, n."idx" / 256 HAVING count(*) = 256`,
  );
  const hex = (r: { key: string; hashes: Uint8Array }) => [r.key, Buffer.from(r.hashes).toString('hex')] as const;
  return { rows: new Map(rows.map(hex)), fromNodes: new Map(fromNodes.map(hex)) };
}

describe('tlog_tiles: complete hash tiles as rows', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.drop());

  it('holds each complete tile, equal to its nodes, however the leaves were batched across tile boundaries', async () => {
    // 0 -> 100 -> 255 -> 256 (completes tile 0/0) -> 257 -> 600 (0/1) -> 1,100 (0/2, 0/3).
    for (const n of [100, 155, 1, 1, 343, 500]) await database.db.sqlTransaction((s) => appendToLog(s, leaves(n)));
    assert.equal((await readTree(database.db)).size, 1100);
    const { rows, fromNodes } = await tileRows(database.db);
    assert.deepEqual([...rows.keys()].sort(), ['0/0', '0/1', '0/2', '0/3']);
    assert.deepEqual(rows, fromNodes);
    // The reader answers the row for a complete tile and the stored nodes for the incomplete one.
    assert.equal(Buffer.from(await readTileHashes(database.db, 0, 3)).toString('hex'), rows.get('0/3'));
    assert.equal((await readTileHashes(database.db, 0, 4)).length, (1100 - 1024) * 32);
    assert.equal((await readTileHashes(database.db, 1, 0)).length, 4 * 32);
  });

  it('completes a level-1 tile with the 65,536th leaf, in the same append', async () => {
    const before = (await readTree(database.db)).size;
    for (let size = before; size < 65_535; size += 8192) await database.db.sqlTransaction((s) => appendToLog(s, leaves(Math.min(8192, 65_535 - size))));
    assert.equal((await tileRows(database.db)).rows.has('1/0'), false, 'level-1 tile 0 is not complete at 65,535');
    await database.db.sqlTransaction((s) => appendToLog(s, leaves(2)));
    const { rows, fromNodes } = await tileRows(database.db);
    assert.equal(rows.size, 257);
    assert.ok(rows.has('1/0'));
    assert.deepEqual(rows, fromNodes);
  });

  it('refuses to change or delete a tile row', async () => {
    await assert.rejects(database.db.query('UPDATE "tlog_tiles" SET "hashes" = "hashes" WHERE "level" = 0 AND "idx" = 0'), /append-only/);
    await assert.rejects(database.db.query('DELETE FROM "tlog_tiles" WHERE "level" = 0 AND "idx" = 0'), /append-only/);
  });

  it('is filled by its migration for a log made before it', async () => {
    const migrations = readMigrations();
    const at = migrations.findIndex((m) => m.name.endsWith('_tile_rows'));
    assert.ok(at > 0);
    const pg = TEST_DB === 'postgres' ? await createPostgresDatabase() : undefined;
    const db = await openDatabase(pg ? { url: pg.url, poolSize: 2 } : {});
    try {
      await migrate(db, migrations.slice(0, at));
      await db.sqlTransaction((s) => appendToLog(s, leaves(700)));
      assert.deepEqual(await migrate(db, migrations), migrations.slice(at).map((m) => m.name));
      const { rows, fromNodes } = await tileRows(db);
      assert.deepEqual([...rows.keys()].sort(), ['0/0', '0/1']);
      assert.deepEqual(rows, fromNodes);
      // And tlog_append writes them from then on.
      await db.sqlTransaction((s) => appendToLog(s, leaves(100)));
      assert.deepEqual([...(await tileRows(db)).rows.keys()].sort(), ['0/0', '0/1', '0/2']);
    } finally {
      await db.close();
      await pg?.drop();
    }
  });
});
