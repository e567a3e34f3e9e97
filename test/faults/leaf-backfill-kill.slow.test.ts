// The start-up backfill of leaf data, killed mid-way: a database whose log holds 3,000 signed
// entries without leaf data (as one from before the tiles migration) starts a real `modelsign
// serve` that backfills in batches of 20; SIGKILL after its first progress line leaves some
// batches committed and none half-stored; the next start finishes from there, and every entry
// bundle is then served, its entries hashing to the tree's leaves.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { formatTileIndex } from '../../src/core/tlog/tile-path.ts';
import { createPostgresDatabase } from '../support/db.ts';
import { assertEntriesHashToTile, splitBundle } from '../support/tiles.ts';
import { deployment, sleep, type Deployment } from './support/harness.ts';

const TOTAL = 3000;

describe('the leaf data backfill, killed mid-way', () => {
  let db: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let d: Deployment;
  let client: pg.Client;
  before(async () => {
    db = await createPostgresDatabase();
    d = deployment(db.url, { MODELSIGN_LEAF_BACKFILL_BATCH: '20' });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  after(async () => {
    for (const s of d.services) await s.stop('SIGKILL');
    d.saveLogs('leaf-backfill-kill');
    await client.end();
    await db.drop();
  });

  const leaves = async () => Number((await client.query('SELECT count(*)::int AS n FROM tlog_leaves')).rows[0].n);

  it('resumes after SIGKILL and completes, one batch at a time', { timeout: 5 * 60_000 }, async (t) => {
    const first = await d.start();
    const { publisher } = await d.acme(first);
    for (let start = 0; start < TOTAL; start += 100) {
      const items = Array.from({ length: 100 }, (_, i) => ({ model: 'acme/old', version: `1.${start + i}`, files: [{ path: 'w.bin', sha256: (start + i).toString(16).padStart(64, '0'), size: 1 }] }));
      const res = await fetch(`${first.base}/v1/signatures/batch`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${publisher}` }, body: JSON.stringify({ items }) });
      assert.equal(res.status, 200, await res.text());
    }
    await first.stop();
    // As a database from before the tiles migration: the log without its leaf data.
    await client.query('ALTER TABLE tlog_leaves DISABLE TRIGGER tlog_leaves_append_only; DELETE FROM tlog_leaves; ALTER TABLE tlog_leaves ENABLE TRIGGER tlog_leaves_append_only');
    const size = Number((await client.query('SELECT size::int AS n FROM tlog_state')).rows[0].n);
    assert.ok(size >= TOTAL);

    const killed = await d.start();
    for (let i = 0; i < 600 && !killed.output().includes('stored the leaf data'); i++) await sleep(10);
    killed.child.kill('SIGKILL');
    await killed.stop();
    const stored = await leaves();
    assert.ok(stored > 0 && stored < size, `a part was stored before the kill: ${stored} of ${size}`);
    assert.equal(stored % 20, 0, 'whole batches only: each commits on its own');
    t.diagnostic(`${stored} of ${size} entries' leaf data stored when the first instance was killed`);

    const resumed = await d.start();
    for (let i = 0; i < 600 && (await leaves()) < size; i++) await sleep(50);
    assert.equal(await leaves(), size);
    const progress = resumed.output().split('\n').filter((l) => l.includes('stored the leaf data')).map((l) => JSON.parse(l).stored as number);
    assert.equal(progress.at(-1), size - stored, 'the second start stored exactly what the first had not');
    const full = Math.floor(size / 256);
    for (const path of [`entries/${formatTileIndex(0)}`, `entries/${formatTileIndex(full - 1)}`]) {
      const bundle = await fetch(`${resumed.base}/v1/log/tile/${path}`);
      assert.equal(bundle.status, 200, path);
      const tile = Buffer.from(await (await fetch(`${resumed.base}/v1/log/tile/0/${path.slice('entries/'.length)}`)).arrayBuffer());
      const entries = splitBundle(Buffer.from(await bundle.arrayBuffer()));
      assertEntriesHashToTile(entries, tile, `${path} entry`);
    }
  });
});
