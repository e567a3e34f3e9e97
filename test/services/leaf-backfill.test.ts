// The leaf data backfill for logs made before leaves were stored: a log whose tlog_leaves rows are
// gone (as in a 0.1 or early-0.2 database) gets every leaf back, rebuilt from its signature and
// checked against the tree's leaf hash; a signature changed behind the log's back is an alarm for
// its index (error line, metric), its entry bundle stays 503, and signing and reads go on; a run
// stopped between batches is finished by the next one; one instance at a time does it.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { RFC6962 } from '../../src/core/tlog/hash.ts';
import { LeafBackfill } from '../../src/services/leaf-backfill.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { signRelease } from '../support/keys.ts';
import { TEST_DB } from '../support/db.ts';
import { assertEntriesHashToTile, splitBundle } from '../support/tiles.ts';

describe('the leaf data backfill', () => {
  let t: TestApp;
  let pub: string;
  before(async () => {
    // No tile cache: the test deletes leaf data, which the service itself never does.
    t = await createTestApp({ tileCacheBytes: 0 });
    pub = await t.publisherToken('acme');
    for (let i = 1; i <= 7; i++) assert.equal((await signRelease(t, pub, `${i}.0`)).status, 201);
    await t.services.checkpointer.checkpointNow();
    // As a database from before the tiles migration: no leaf data. (The table is append-only for the service; a test may lift that.)
    await t.services.db.query('ALTER TABLE "tlog_leaves" DISABLE TRIGGER "tlog_leaves_append_only"');
    await t.services.db.query('DELETE FROM "tlog_leaves"');
    await t.services.db.query('ALTER TABLE "tlog_leaves" ENABLE TRIGGER "tlog_leaves_append_only"');
  });
  after(() => t.close());

  const bundle = (path: string) => t.app.inject({ url: `/v1/log/tile/entries/${path}` });

  it('answers 503 for entries not yet backfilled, then stores every leaf in batches, resuming after a stop', async () => {
    const size = Number((await t.app.inject({ url: '/v1/log/checkpoint' })).body.split('\n')[1]);
    const before = await bundle(`000.p/${size}`);
    assert.equal(before.statusCode, 503);
    assert.equal(before.json().code, 'log_leaves_unavailable');
    assert.equal(before.headers['cache-control'], 'no-store');
    assert.ok(before.headers['retry-after']);
    const progress: number[] = [];
    const first = new LeafBackfill(t.services.db, t.services.keys, RFC6962, { progress: (n) => progress.push(n), mismatch: () => assert.fail('no mismatch') });
    // Stopped after its first batch of 3, as a killed instance would leave it.
    const stopping = first.run(3);
    first.stop();
    assert.equal(await stopping, 3);
    assert.equal((await bundle(`000.p/${size}`)).statusCode, 503);
    const second = new LeafBackfill(t.services.db, t.services.keys, RFC6962, { progress: (n) => progress.push(n), mismatch: () => assert.fail('no mismatch') });
    assert.equal(await second.run(3), size - 3);
    assert.equal(progress[0], 3);
    assert.equal(progress.at(-1), size - 3, 'progress is reported per batch, as the count so far');
    const after = await bundle(`000.p/${size}`);
    assert.equal(after.statusCode, 200, after.body);
    const tile = (await t.app.inject({ url: `/v1/log/tile/0/000.p/${size}` })).rawPayload;
    assertEntriesHashToTile(splitBundle(gunzipSync(after.rawPayload)), tile);
  });

  it('raises the alarm for a leaf that does not hash to the tree\'s, keeps its bundle unavailable, and the service works on', async () => {
    await t.services.db.query('ALTER TABLE "tlog_leaves" DISABLE TRIGGER "tlog_leaves_append_only"');
    await t.services.db.query('DELETE FROM "tlog_leaves" WHERE "idx" IN (2, 4)');
    await t.services.db.query('ALTER TABLE "tlog_leaves" ENABLE TRIGGER "tlog_leaves_append_only"');
    // A stored signature changed behind the log's back: its rebuilt leaf is not the logged one.
    await t.services.db.query('UPDATE "release_signatures" SET "signature" = decode(repeat(\'ab\', 64), \'hex\') WHERE "log_index" = 4');
    const alarms: number[] = [];
    const backfill = new LeafBackfill(t.services.db, t.services.keys, RFC6962, { progress: () => {}, mismatch: (i) => alarms.push(i) });
    assert.equal(await backfill.run(), 1, 'index 2 is stored, 4 is not');
    assert.deepEqual(alarms, [4]);
    assert.deepEqual([...backfill.mismatches], [4]);
    assert.equal(await backfill.run(), 0, 'a second run stores nothing more');
    assert.deepEqual(alarms, [4], 'and names the index once');
    const size = Number((await t.app.inject({ url: '/v1/log/checkpoint' })).body.split('\n')[1]);
    const res = await bundle(`000.p/${size}`);
    assert.equal(res.statusCode, 503);
    assert.match(res.json().detail, /first 4\b/);
    assert.equal((await t.app.inject({ url: `/v1/log/tile/0/000.p/${size}` })).statusCode, 200, 'hash tiles are served');
    assert.equal((await signRelease(t, pub, '8.0')).status, 201, 'signing works');
    assert.equal((await t.app.inject({ url: '/v1/log/proofs/inclusion?index=0' })).statusCode, 200, 'proofs work');
  });

  // PGlite has one connection, so no second instance can be there while the first holds the lock.
  it('leaves the work to the instance that holds the lock', { skip: TEST_DB === 'pglite' ? 'the embedded database has one connection: no other instance can hold the lock' : false }, async () => {
    await t.services.db.query('ALTER TABLE "tlog_leaves" DISABLE TRIGGER "tlog_leaves_append_only"');
    await t.services.db.query('DELETE FROM "tlog_leaves" WHERE "idx" = 1');
    await t.services.db.query('ALTER TABLE "tlog_leaves" ENABLE TRIGGER "tlog_leaves_append_only"');
    const other = new LeafBackfill(t.services.db, t.services.keys, RFC6962, { progress: () => {}, mismatch: () => {} });
    const whileHeld = await t.services.db.sqlTransaction(async (s) => {
      await s.query('SELECT pg_advisory_xact_lock(7418530166020917)');
      return other.run();
    });
    assert.equal(whileHeld, 0, 'nothing stored while another instance holds the lock');
    assert.equal(await other.run(), 1, 'stored once it is free');
  });

  it('exposes the alarm as a metric', async () => {
    t.services.leaves.mismatches.add(4);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /^modelsign_log_leaf_mismatches 1$/m);
  });
});
