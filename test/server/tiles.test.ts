// The log as C2SP tlog-tiles under /v1/log: hash tiles are the stored level-8L hashes, entry
// bundles the stored leaf data (length-prefixed, gzipped) hashing to the level-0 tile; full tiles
// only once a checkpoint covers them, partials only for sizes a checkpoint names; the cache and
// CORS headers, HEAD, the checkpoint's ETag, and a 400 for every malformed path.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { fromBase64 } from '../../src/core/bytes.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { signRelease } from '../support/keys.ts';
import { growLog } from '../support/synthetic-log.ts';
import { assertEntriesHashToTile, splitBundle } from '../support/tiles.ts';

describe('tiles (C2SP tlog-tiles)', () => {
  let t: TestApp;
  let bundles: { logIndex: number; body: string }[];
  before(async () => {
    t = await createTestApp();
    const pub = await t.publisherToken('acme');
    bundles = [];
    for (let i = 1; i <= 3; i++) {
      const signed = await signRelease(t, pub, `${i}.0`);
      bundles.push({ logIndex: signed.body.logIndex, body: (signed.body.bundle.verificationMaterial.tlogEntries[0] as { canonicalizedBody: string }).canonicalizedBody });
    }
  });
  after(() => t.close());

  const get = (path: string, headers: Record<string, string> = {}) => t.app.inject({ url: `/v1/log/${path}`, headers });
  const size = async () => Number((await get('checkpoint')).body.split('\n')[1]);

  it('serves the partial level-0 tile and entry bundle of the newest checkpoint, which agree with each other and with the bundles', async () => {
    const n = await size();
    assert.ok(n >= 3 && n < 256);
    const tile = await get(`tile/0/000.p/${n}`);
    assert.equal(tile.statusCode, 200, tile.body);
    assert.equal(tile.headers['content-type'], 'application/octet-stream');
    assert.equal(tile.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(tile.headers['access-control-allow-origin'], '*');
    assert.equal(tile.rawPayload.length, 32 * n);
    const entries = await get(`tile/entries/000.p/${n}`);
    assert.equal(entries.statusCode, 200);
    assert.equal(entries.headers['content-encoding'], 'gzip');
    assert.equal(entries.headers['cache-control'], 'public, max-age=31536000, immutable');
    const leaves = splitBundle(gunzipSync(entries.rawPayload));
    assert.equal(leaves.length, n);
    assertEntriesHashToTile(leaves, tile.rawPayload);
    for (const b of bundles) assert.deepEqual(leaves[b.logIndex], Buffer.from(fromBase64(b.body)!), 'the bundle\'s canonicalizedBody is the stored leaf');
    const head = await t.app.inject({ method: 'HEAD', url: `/v1/log/tile/0/000.p/${n}` });
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(head.body, '');
  });

  it('answers 404 (no-store) for a full tile no checkpoint covers and a partial no checkpoint names', async () => {
    const n = await size();
    for (const path of ['tile/0/000', 'tile/entries/000', `tile/0/000.p/${n + 1}`, 'tile/0/001.p/1', 'tile/1/000.p/1', 'tile/63/x999/999']) {
      const res = await get(path);
      assert.equal(res.statusCode, 404, `${path}: ${res.body}`);
      assert.equal(res.headers['cache-control'], 'no-store', path);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(res.headers['access-control-allow-origin'], '*');
    }
  });

  it('refuses malformed paths with 400 tile_path_invalid (no-store)', async () => {
    for (const path of ['00/000', '64/000', '0/0000', '0/x000/001', '0/000.p/0', '0/000.p/256', '0/000.p/01', '0/../000', '0/000.q/1', 'entries/000.p', 'x/000', '0/000/']) {
      const res = await get(`tile/${path}`);
      assert.equal(res.statusCode, 400, `${path}: ${res.body}`);
      assert.equal(res.json().code, 'tile_path_invalid', path);
      assert.equal(res.headers['cache-control'], 'no-store');
    }
  });

  it('gives the checkpoint an ETag and answers 304 to it', async () => {
    const first = await get('checkpoint');
    assert.equal(first.headers['cache-control'], 'no-cache');
    assert.equal(first.headers['access-control-allow-origin'], '*');
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[0-9a-f]{32}"$/);
    const again = await get('checkpoint', { 'if-none-match': etag });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    const other = await get('checkpoint', { 'if-none-match': '"x"' });
    assert.equal(other.statusCode, 200);
    // A page on another origin can read the ETag and send it back (the header needs a preflight).
    assert.match(String(first.headers['access-control-expose-headers']), /(^|, )etag(,|$)/);
    const preflight = await t.app.inject({ method: 'OPTIONS', url: '/v1/log/checkpoint', headers: { origin: 'https://monitor.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'if-none-match' } });
    assert.equal(preflight.statusCode, 204);
    assert.match(String(preflight.headers['access-control-allow-headers']), /if-none-match/);
  });

  it('serves full and partial tiles on three levels for a tree of 70,000 (the spec\'s example)', async () => {
    await growLog(t.services.db, 70_000);
    await t.services.checkpointer.checkpointNow();
    assert.equal(await size(), 70_000);
    const widths: [string, number][] = [['0/272', 256], ['0/273.p/112', 112], ['1/000', 256], ['1/001.p/17', 17], ['2/000.p/1', 1], ['entries/273.p/112', -1], ['entries/000', -1]];
    for (const [path, width] of widths) {
      const res = await get(`tile/${path}`);
      assert.equal(res.statusCode, 200, `${path}: ${res.body}`);
      if (width > 0) assert.equal(res.rawPayload.length, 32 * width, path);
    }
    // A level-1 hash is the root of the 256 level-0 hashes under it.
    const level0 = (await get('tile/0/005')).rawPayload;
    const level1 = (await get('tile/1/000')).rawPayload;
    let row = Array.from({ length: 256 }, (_, i) => level0.subarray(32 * i, 32 * i + 32));
    while (row.length > 1) row = Array.from({ length: row.length / 2 }, (_, i) => createHash('sha256').update(Buffer.from([1])).update(row[2 * i]!).update(row[2 * i + 1]!).digest());
    assert.deepEqual(row[0], level1.subarray(32 * 5, 32 * 6));
    assert.equal((await get('tile/1/001')).statusCode, 404, 'level 1 has one full tile');
    assert.equal((await get('tile/0/273.p/111')).statusCode, 404, 'no checkpoint has size 70,000 - 1');
  });
});
