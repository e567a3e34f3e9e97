// Go's own tree code reads modelsign's log as C2SP tlog-tiles (test/interop/go-tiles/main.go, on
// golang.org/x/mod/sumdb/tlog and sumdb/note): on a log of 70,003 entries (three real release
// signatures, then synthetic leaves appended with their data, as bench:tiles makes its log: about
// 5 s on the embedded database), full and partial tiles on three levels check out against the
// signed root, every entry bundle hashes to the level-0 tiles, and 1,000 random inclusion and
// consistency proofs rebuilt by x/mod from the tiles equal /v1/log/proofs/* byte for byte (and
// x/mod's checks accept ours). Through a proxy that flips one byte of one tile, the check fails.
// Runs once: the tile reads' storage behaviour is checked on both databases by test/server/tiles.test.ts.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { formatVkey, NOTE_TYPE } from '../../src/core/tlog/vkey.ts';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { signRelease } from '../support/keys.ts';
import { growLog } from '../support/synthetic-log.ts';
import { buildGo, goSkip } from './support/go.ts';
import { runAsync } from '../support/process.ts';
import { tamperingProxy } from '../support/tiles.ts';

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
  after(async () => {
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
});
