// `modelsign log mirror --from` (any tiles log; a modelsign service with side files and the key
// pinned from /v1/log/vkey is test/cli/log-monitor-tiles.test.ts): a log of 1,003 entries (synthetic
// leaves, which /v1/log/entries cannot list) mirrored into a folder, checked, and read back by
// Go's own tree code (test/interop/go-tiles) from a plain static server of that folder; a second
// run after 300 more entries writes only what changed; a log that rewrote what was mirrored (a
// fork) or shrank (a rollback) exits 9 and writes nothing; a tile with a flipped byte exits 1.
// Runs once: the tiles' storage behaviour is checked on both databases by test/server/tiles.test.ts.
// Tier: external (it drives Go's tlog code)
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signCheckpoint } from '../../src/core/tlog/log-note.ts';
import { parseCheckpoint } from '../../src/core/tlog/checkpoint.ts';
import { parseSignedNote } from '../../src/core/tlog/signed-note.ts';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { signRelease } from '../support/keys.ts';
import { runAsync, runCliAsync } from '../support/process.ts';
import { growLog } from '../support/synthetic-log.ts';
import { serveFolder, tamperingProxy } from '../support/tiles.ts';
import { buildGo, goSkip } from '../interop/support/go.ts';

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });

describe('modelsign log mirror', () => {
  let t: TestApp;
  let base: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-mirror-'));
  const out = path.join(dir, 'mirror');
  const servers: Server[] = [];

  before(async () => {
    t = await createTestApp();
    base = await listenTestApp(t);
    const token = await t.publisherToken('acme');
    for (let i = 1; i <= 3; i++) assert.equal((await signRelease(t, token, `${i}.0`)).status, 201);
    await growLog(t.services.db, 1_003);
    await t.services.checkpointer.checkpointNow();
  });
  after(async () => {
    for (const s of servers) s.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the tiles, the entry bundles and the checkpoint last, each checked, and pins the log key', async () => {
    const vkey = (await t.app.inject({ url: '/v1/log/vkey' })).body.trim();
    const res = await runCliAsync(['log', 'mirror', '--out', out, '--from', `${base}/v1/log`, '--vkey', vkey], {});
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /mirrored tlog\.modelsign\.test at size 1003: 9 files written/);
    assert.equal(readFileSync(path.join(out, 'vkey'), 'utf8'), `${vkey}\n`);
    // 3 full level-0 tiles and the partial of 235, level 1's partial of 3; 3 full entry bundles and the partial: 9 files.
    for (const rel of ['tile/0/000', 'tile/0/002', 'tile/0/003.p/235', 'tile/1/000.p/3', 'tile/entries/000', 'tile/entries/003.p/235', 'checkpoint', 'vkey']) assert.ok(existsSync(path.join(out, rel)), rel);
    assert.equal(readFileSync(path.join(out, 'checkpoint'), 'utf8'), (await t.app.inject({ url: '/v1/log/checkpoint' })).body);
  });

  it('is read back by Go\'s own tree code from a static server of the folder', { skip: goSkip }, async () => {
    const { bin, remove } = buildGo('go-tiles');
    try {
      const { server, url } = await serveFolder(out);
      servers.push(server);
      const vkey = readFileSync(path.join(out, 'vkey'), 'utf8').trim();
      const res = await runAsync(bin, ['check', url, vkey]);
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, /checked tree 1003: \d+ hash tiles read, 4 entry bundles/);
    } finally {
      remove();
    }
  });

  it('after 300 more entries, writes only the new tiles and the new partials', async () => {
    const before = new Map(files(out).map((f) => [f, statSync(f).mtimeMs]));
    await growLog(t.services.db, 1_303);
    await t.services.checkpointer.checkpointNow();
    const res = await runCliAsync(['log', 'mirror', '--out', out, '--from', `${base}/v1/log`], {});
    assert.equal(res.status, 0, res.stderr);
    // 1303 = 5 full level-0 tiles and a partial of 23, level 1's partial of 5, entries likewise: new are 0/003, 0/004,
    // 0/005.p/23, 1/000.p/5, entries/003, entries/004, entries/005.p/23.
    assert.match(res.stdout, /at size 1303 \(was 1003\): 7 files written/);
    for (const [f, mtime] of before) if (/tile\/(0|entries)\/00[0-2]$/.test(f)) assert.equal(statSync(f).mtimeMs, mtime, `${f} was not rewritten`);
  });

  it('exits 9 and writes nothing when the log rewrote what was mirrored (a fork) or holds less (a rollback)', async () => {
    const checkpointFile = path.join(out, 'checkpoint');
    const kept = readFileSync(checkpointFile, 'utf8');
    const mirrored = parseCheckpoint(parseSignedNote(kept).text);
    const signer = t.services.keys.signer('log');
    // The mirror's checkpoint says another root at its size: the log's tiles now disagree with it.
    writeFileSync(checkpointFile, await signCheckpoint({ ...mirrored, rootHash: new Uint8Array(32).fill(5) }, signer, Math.floor(Date.now() / 1000)));
    const fork = await runCliAsync(['log', 'mirror', '--out', out, '--from', `${base}/v1/log`], {});
    assert.equal(fork.status, 9, fork.stdout + fork.stderr);
    assert.match(fork.stderr, /fork: .* at size 1303/);
    // The mirror's checkpoint is larger than the log's: a rollback.
    writeFileSync(checkpointFile, await signCheckpoint({ ...mirrored, size: mirrored.size + 10 }, signer, Math.floor(Date.now() / 1000)));
    const rollback = await runCliAsync(['log', 'mirror', '--out', out, '--from', `${base}/v1/log`], {});
    assert.equal(rollback.status, 9, rollback.stdout + rollback.stderr);
    assert.match(rollback.stderr, /rollback/);
    writeFileSync(checkpointFile, kept);
  });

  it('exits 1 on a tile with one flipped byte, and leaves the mirror as it was', async () => {
    await growLog(t.services.db, 1_603);
    await t.services.checkpointer.checkpointNow();
    const tampering = await tamperingProxy(base, '/v1/log/tile/0/005', 40);
    servers.push(tampering.server);
    const before = readFileSync(path.join(out, 'checkpoint'), 'utf8');
    const res = await runCliAsync(['log', 'mirror', '--out', out, '--from', `${tampering.url}/v1/log`], {});
    assert.equal(res.status, 1, res.stdout + res.stderr);
    assert.equal(readFileSync(path.join(out, 'checkpoint'), 'utf8'), before);
    assert.ok(!existsSync(path.join(out, 'tile/0/005')));
  });
});
