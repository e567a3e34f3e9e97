// The log routes: what they serve verifies against the signed checkpoint, and every malformed or
// out-of-range request gets a 4xx problem+json with a documented code.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { preAuthEncoding } from '../../src/core/dsse.ts';
import { after, before, describe, it } from 'node:test';
import type { PublicKey } from '../../src/core/keys/key.ts';
import { appendLeaves, edgeRoot } from '../../src/core/tlog/compact-range.ts';
import { leafHash } from '../../src/core/tlog/hash.ts';
import { verifyCheckpoint } from '../../src/core/tlog/log-note.ts';
import { verifyConsistency, verifyInclusion } from '../../src/core/tlog/verify-proof.ts';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe('log routes', () => {
  let t: TestApp;
  let logKey: PublicKey;
  before(async () => {
    t = await createTestApp();
    const token = await t.publisherToken('acme');
    for (let i = 0; i < 21; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: { model: 'acme/m', version: `1.${i}`, files: [{ path: 'w', sha256: sha(String(i % 10)), size: i }] } });
      assert.equal(res.statusCode, 201);
    }
    logKey = t.services.keys.list().find((k) => k.purpose === 'log')!;
  });
  after(() => t.close());

  const get = (url: string) => t.app.inject({ url });

  it('serves the latest checkpoint as a signed note', async () => {
    const res = await get('/v1/log/checkpoint');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const c = verifyCheckpoint(res.body, logKey);
    assert.equal(c.size, 21);
    assert.equal(c.origin, 'tlog.modelsign.test');
  });

  it('serves inclusion and consistency proofs that verify, and entries that rebuild the root', async () => {
    const c = verifyCheckpoint((await get('/v1/log/checkpoint')).body, logKey);
    const entries = (await get('/v1/log/entries?start=0&end=21')).json();
    assert.equal(entries.entries.length, 21);
    let edge = { size: 0, frontier: [] as Uint8Array[] };
    for (const e of entries.entries) {
      const data = b64(e.data);
      assert.deepEqual(leafHash(data), b64(e.leafHash));
      // A Rekor v2 hashedrekord body, whose digest is SHA-256 of the PAE of the payload served beside it.
      assert.deepEqual(e.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
      assert.deepEqual(JSON.parse(Buffer.from(data).toString('utf8')), e.body);
      assert.match(e.release.version, /^1\.\d+$/);
      assert.equal(e.release.model, 'acme/m');
      const pae = preAuthEncoding(e.payloadType, b64(e.payload));
      assert.equal(e.body.spec.hashedRekordV002.data.digest, createHash('sha256').update(pae).digest('base64'));
      assert.match(JSON.parse(Buffer.from(b64(e.payload)).toString()).subject[0].name, new RegExp(`^acme/m@${e.release.version.replace('.', '\\.')}$`));
      edge = appendLeaves(edge, [b64(e.leafHash)]).edge;
    }
    assert.deepEqual(edgeRoot(edge), c.rootHash);
    for (const index of [0, 7, 20]) {
      const p = (await get(`/v1/log/proofs/inclusion?index=${index}`)).json();
      assert.equal(p.treeSize, 21);
      verifyInclusion(index, 21, b64(entries.entries[index].leafHash), p.hashes.map(b64), c.rootHash);
      const older = (await get(`/v1/log/proofs/inclusion?index=${index}&treeSize=${index + 1}`)).json();
      verifyInclusion(index, index + 1, b64(entries.entries[index].leafHash), older.hashes.map(b64), b64(older.rootHash));
    }
    for (const from of [1, 5, 16, 21]) {
      const p = (await get(`/v1/log/proofs/consistency?from=${from}`)).json();
      assert.equal(p.to, 21);
      verifyConsistency(from, 21, p.hashes.map(b64), b64(p.fromRoot), c.rootHash);
    }
    const page = (await get('/v1/log/entries?start=20')).json();
    assert.deepEqual([page.start, page.end, page.entries.length], [20, 21, 1]);
  });

  const bad: [string, number, string][] = [
    ['/v1/log/proofs/inclusion', 400, 'validation_failed'],
    ['/v1/log/proofs/inclusion?index=-1', 400, 'validation_failed'],
    ['/v1/log/proofs/inclusion?index=abc', 400, 'validation_failed'],
    ['/v1/log/proofs/inclusion?index=1.5', 400, 'validation_failed'],
    ['/v1/log/proofs/inclusion?index=1e400', 400, 'validation_failed'],
    ['/v1/log/proofs/inclusion?index=99999999999999999999', 400, 'validation_failed'],
    ['/v1/log/proofs/inclusion?index=9007199254740991', 400, 'log_range_invalid'],
    ['/v1/log/proofs/inclusion?index=21', 400, 'log_range_invalid'],
    ['/v1/log/proofs/inclusion?index=3&treeSize=3', 400, 'log_range_invalid'],
    ['/v1/log/proofs/inclusion?index=0&treeSize=0', 400, 'log_range_invalid'],
    ['/v1/log/proofs/inclusion?index=0&treeSize=22', 400, 'log_range_invalid'],
    ['/v1/log/proofs/inclusion?index=0&treeSize=x', 400, 'validation_failed'],
    ['/v1/log/proofs/inclusion?index=0&other=1', 400, 'validation_failed'],
    ['/v1/log/proofs/consistency', 400, 'validation_failed'],
    ['/v1/log/proofs/consistency?from=0&to=5', 400, 'log_range_invalid'],
    ['/v1/log/proofs/consistency?from=6&to=5', 400, 'log_range_invalid'],
    ['/v1/log/proofs/consistency?from=5&to=22', 400, 'log_range_invalid'],
    ['/v1/log/proofs/consistency?from=5&to=-1', 400, 'validation_failed'],
    ['/v1/log/proofs/consistency?from=NaN', 400, 'validation_failed'],
    ['/v1/log/proofs/consistency?from=1&to=18446744073709551616', 400, 'validation_failed'],
    ['/v1/log/entries', 400, 'validation_failed'],
    ['/v1/log/entries?start=5&end=3', 400, 'log_range_invalid'],
    ['/v1/log/entries?start=-5', 400, 'validation_failed'],
    ['/v1/log/entries?start=%00', 400, 'validation_failed'],
  ];
  for (const [url, status, code] of bad) {
    it(`${url} → ${status} ${code}`, async () => {
      const res = await get(url);
      assert.equal(res.statusCode, status, res.body);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(res.json().code, code);
    });
  }

  it('answers a range of entries past the signed tree with what there is, cut at the tree size, not to be cached', async () => {
    const cases: [string, number, number, number][] = [
      // url, end of the answer, entries, whether cut (no-cache)
      ['/v1/log/entries?start=15&end=100', 21, 6, 1],
      ['/v1/log/entries?start=0&end=22', 21, 21, 1],
      ['/v1/log/entries?start=21', 21, 0, 1],
      ['/v1/log/entries?start=21&end=21', 21, 0, 0],
      ['/v1/log/entries?start=5000&end=6000', 5000, 0, 1],
      ['/v1/log/entries?start=5&end=5', 5, 0, 0],
      ['/v1/log/entries?start=3&end=7', 7, 4, 0],
    ];
    for (const [url, end, count, cut] of cases) {
      const res = await get(url);
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      const page = res.json();
      assert.deepEqual([page.end, page.entries.length, page.treeSize], [end, count, 21], url);
      assert.deepEqual(page.entries.map((e: { index: number }) => e.index), Array.from({ length: count }, (_, k) => page.start + k), url);
      assert.equal(res.headers['cache-control'], cut ? 'no-cache' : undefined, url);
    }
  });

  it('answers entries of an empty log with none, not a 4xx', async () => {
    const empty = await createTestApp();
    try {
      for (const url of ['/v1/log/entries?start=0', '/v1/log/entries?start=0&end=10', '/v1/log/entries?start=7']) {
        const res = await empty.app.inject({ url });
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
        const page = res.json() as { start: number; end: number; treeSize: number; entries: unknown[] };
        assert.deepEqual([page.end, page.treeSize, page.entries], [page.start, 0, []], url);
      }
      assert.equal((await empty.app.inject({ url: '/v1/log/entries?start=3&end=2' })).json().code, 'log_range_invalid');
    } finally {
      await empty.close();
    }
  });

  it('caps a page at 1000 entries and says where it stopped', async () => {
    const res = await get('/v1/log/entries?start=0&end=21');
    assert.equal(res.json().end, 21);
    assert.equal((await get('/healthz')).statusCode, 200);
  });
});
