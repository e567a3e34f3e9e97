// Go's own tree code reads modelsign's log as C2SP tlog-tiles (test/interop/go-tiles/main.go, on
// golang.org/x/mod/sumdb/tlog and sumdb/note): on a log of 70,003 entries (three real release
// signatures, then synthetic leaves appended with their data, as bench:tiles makes its log: about
// 5 s on the embedded database), full and partial tiles on three levels check out against the
// signed root, every entry bundle hashes to the level-0 tiles, and 1,000 random inclusion and
// consistency proofs rebuilt by x/mod from the tiles equal /v1/log/proofs/* byte for byte (and
// x/mod's checks accept ours). Through a proxy that flips one byte of one tile, the check fails.
// The same log mirrored with `log mirror` and served by Debian's nginx with the README's
// configuration (examples/nginx/nginx.conf) is read by the same checker end to end, with the
// service's cache headers and gzipped entry bundles; a second mirror after 1,000 new entries
// writes only the 11 files that changed (file count and time printed).
// Runs once: the tile reads' storage behaviour is checked on both databases by test/server/tiles.test.ts.
// Tier: external (it drives Go's tlog code and nginx)
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { formatVkey, NOTE_TYPE } from '../../src/core/tlog/vkey.ts';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { signRelease } from '../support/keys.ts';
import { growLog } from '../support/synthetic-log.ts';
import { buildGo, goSkip } from './support/go.ts';
import { runAsync, runCliAsync } from '../support/process.ts';
import { tamperingProxy } from '../support/tiles.ts';
import { nginxSkip, startNginx } from '../support/nginx.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';

const run = (bin: string, args: string[]) => runAsync(bin, args);

describe('Go\'s sumdb/tlog reads the log as tiles', { skip: goSkip }, () => {
  let t: TestApp;
  let base: string;
  let vkey: string;
  let bin: string;
  let remove = () => {};
  let proxy: Server | undefined;
  before(async () => {
    ({ bin, remove } = buildGo('go-tiles'));
    t = await createTestApp();
    base = await listenTestApp(t);
    const pub = await t.publisherToken('acme');
    for (let i = 1; i <= 3; i++) assert.equal((await signRelease(t, pub, `${i}.0`)).status, 201);
    await growLog(t.services.db, 70_003);
    await t.services.checkpointer.checkpointNow();
    const note = (await t.app.inject({ url: '/v1/log/checkpoint' })).body;
    assert.equal(note.split('\n')[1], '70003');
    vkey = formatVkey(note.split('\n')[0]!, NOTE_TYPE.ed25519, t.services.keys.signer('log').publicKey);
  });
  const mirrorDir = mkdtempSync(path.join(tmpdir(), 'modelsign-go-mirror-'));
  let nginx: { url: string; stop(): void } | undefined;
  after(async () => {
    nginx?.stop();
    rmSync(mirrorDir, { recursive: true, force: true });
    proxy?.close();
    await t?.close();
    remove();
  });

  it('checks every tile against the signed checkpoint and every entry bundle against the level-0 hashes', async () => {
    const res = await run(bin, ['check', `${base}/v1/log`, vkey]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^checked tree 70003: \d+ hash tiles read, 274 entry bundles$/m);
  });

  it('rebuilds 1,000 inclusion and consistency proofs from the tiles, equal to the service\'s, which x/mod accepts', { timeout: 300_000 }, async () => {
    const res = await run(bin, ['proofs', `${base}/v1/log`, vkey, '1000', String(Date.now() % 100000)]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /1000 inclusion and 1000 consistency proofs equal x\/mod's/);
  });

  it('fails on a tile with one flipped byte', async () => {
    const tampering = await tamperingProxy(base, '/v1/log/tile/0/100', 77);
    proxy = tampering.server;
    const res = await run(bin, ['check', `${tampering.url}/v1/log`, vkey]);
    assert.equal(res.status, 1, res.stdout);
    assert.match(res.stderr, /invalid|mismatch|hash/i);
  });

  it('reads a mirror served by nginx with the README\'s configuration, end to end; a second mirror after 1,000 entries writes only what changed', { skip: nginxSkip, timeout: 300_000 }, async () => {
    const out = path.join(mirrorDir, 'mirror');
    const first = await runCliAsync(['log', 'mirror', '--out', out, '--from', `${base}/v1/log`, '--vkey', vkey]);
    assert.equal(first.status, 0, first.stderr);
    // 274 level-0 tiles (273 full and 0/273.p/115), 1/000 and 1/001.p/17, 2/000.p/1, 274 entry bundles.
    assert.match(first.stdout, /at size 70003: 551 files written \(\d+ KiB\) in [\d.]+ s/);
    console.log(`# first mirror: ${first.stdout.trim()}`);
    nginx = await startNginx(out);
    const res = await run(bin, ['check', nginx.url, vkey]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^checked tree 70003: \d+ hash tiles read, 274 entry bundles$/m);
    // The service's headers, from nginx.
    const checkpoint = await fetch(`${nginx.url}/checkpoint`);
    assert.equal(checkpoint.headers.get('cache-control'), 'no-cache');
    assert.equal(await checkpoint.text(), (await t.app.inject({ url: '/v1/log/checkpoint' })).body);
    const bundle = await fetch(`${nginx.url}/tile/entries/x001/000`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(bundle.status, 404, 'beyond the tree');
    assert.equal(bundle.headers.get('cache-control'), 'no-store');
    const entries = await fetch(`${nginx.url}/tile/entries/005`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(entries.headers.get('content-encoding'), 'gzip');
    assert.equal(entries.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(entries.headers.get('access-control-allow-origin'), '*');
    // fetch decompresses: the bytes are the service's bundle.
    assert.deepEqual(Buffer.from(await entries.arrayBuffer()), gunzipSync((await t.app.inject({ url: '/v1/log/tile/entries/005' })).rawPayload));

    await growLog(t.services.db, 71_003);
    await t.services.checkpointer.checkpointNow();
    const second = await runCliAsync(['log', 'mirror', '--out', out, '--from', `${base}/v1/log`]);
    assert.equal(second.status, 0, second.stderr);
    // New: 0/273–0/276, 0/277.p/91, 1/001.p/21, entries/273–276, entries/277.p/91 (1/000 and 2/000.p/1 are kept).
    assert.match(second.stdout, /at size 71003 \(was 70003\): 11 files written/);
    console.log(`# second mirror: ${second.stdout.trim()}`);
    const again = await run(bin, ['check', nginx.url, vkey]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^checked tree 71003: /m);
  });
});
