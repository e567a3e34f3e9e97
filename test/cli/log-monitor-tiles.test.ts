// `modelsign log monitor --tiles` and the mirror's side files, on a log of real release
// signatures (270, then 280: a full entry bundle and a partial): a mirror of the service made with
// --server pins the key from /v1/log/vkey and writes each bundle's side file; the monitor passes
// against the mirror (each entry's content checked from the side files) and against the service
// (content from --server), follows the log as it grows, and exits 9 on a mirror swapped for
// another tree of the same size signed by the same key, on one rolled back, and names the entry
// whose side-file payload was tampered with, and the one whose bundle data does not hash to its
// level-0 hash. A mirror of the mirror copies the side files, checked. Another project's log (no side files) is checked by
// its hashes.
// Runs once: the monitor is a client of the tiles; their storage is tested on both databases by test/server/tiles.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { signRelease } from '../support/keys.ts';
import { runCliAsync } from '../support/process.ts';
import { serveFolder } from '../support/tiles.ts';
import { writeTilesFolder } from '../support/tiles-folder.ts';

describe('log monitor --tiles, and the side files of a mirror', () => {
  let t: TestApp;
  let base: string;
  let vkey: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-monitor-tiles-'));
  const out = path.join(dir, 'mirror');
  const servers: Server[] = [];
  let mirrorUrl: string;
  let firstNote: string;
  const serve = async (folder: string) => {
    const { server, url } = await serveFolder(folder);
    servers.push(server);
    return url;
  };
  const monitor = (args: string[]) => runCliAsync(['log', 'monitor', ...args], {});

  before(async () => {
    t = await createTestApp();
    base = await listenTestApp(t);
    const token = await t.publisherToken('acme');
    for (let i = 0; i < 270; i++) assert.equal((await signRelease(t, token, `1.${i}`)).status, 201);
    await t.services.checkpointer.checkpointNow();
    vkey = (await t.app.inject({ url: '/v1/log/vkey' })).body.trim();
  });
  after(async () => {
    for (const s of servers) s.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mirrors a modelsign service with a side file per entry bundle, its key pinned from /v1/log/vkey', async () => {
    const res = await runCliAsync(['log', 'mirror', '--out', out, '--server', base], {});
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stderr, /pinned the log key tlog\.modelsign\.test\+/);
    // tile/0/000, tile/0/001.p/14, tile/1/000.p/1, tile/entries/000, tile/entries/001.p/14 and their two side files.
    assert.match(res.stdout, /at size 270: 7 files written/);
    const side = JSON.parse(readFileSync(path.join(out, 'modelsign/entries/001.p/14.json'), 'utf8')) as { entries: { index: number; release: { version: string }; payload: string }[] };
    assert.deepEqual(side.entries.map((e) => e.index), Array.from({ length: 14 }, (_, i) => 256 + i));
    const served = (await t.app.inject({ url: '/v1/log/entries?start=256&end=270' })).json() as { entries: { release: unknown; payload: string }[] };
    assert.deepEqual(side.entries.map((e) => [e.release, e.payload]), served.entries.map((e) => [e.release, e.payload]));
    mirrorUrl = await serve(out);
    firstNote = readFileSync(path.join(out, 'checkpoint'), 'utf8');
  });

  it('passes against the mirror (content from its side files) and against the service (content from --server)', async () => {
    const viaMirror = await monitor(['--tiles', mirrorUrl, '--vkey', vkey, '--state', path.join(dir, 'm.json')]);
    assert.equal(viaMirror.status, 0, viaMirror.stderr);
    assert.match(viaMirror.stdout, /first run, pinned tlog\.modelsign\.test at 270 entries, 270 entries' content checked/);
    cpSync(path.join(dir, 'm.json'), path.join(dir, 'm-270.json'));
    const viaService = await monitor(['--tiles', `${base}/v1/log`, '--vkey', vkey, '--server', base, '--state', path.join(dir, 's.json'), '--json']);
    assert.equal(viaService.status, 0, viaService.stderr);
    assert.deepEqual(JSON.parse(viaService.stdout).contentChecked, 270);
  });

  it('follows the log as it grows: only the new entries are read and checked', async () => {
    const token = await t.publisherToken('acme');
    for (let i = 270; i < 280; i++) assert.equal((await signRelease(t, token, `1.${i}`)).status, 201);
    await t.services.checkpointer.checkpointNow();
    const mirrored = await runCliAsync(['log', 'mirror', '--out', out, '--server', base], {});
    assert.equal(mirrored.status, 0, mirrored.stderr);
    const viaMirror = await monitor(['--tiles', mirrorUrl, '--state', path.join(dir, 'm.json')]);
    assert.equal(viaMirror.status, 0, viaMirror.stderr);
    assert.match(viaMirror.stdout, /grew by 10 to 280 entries, consistent with the saved checkpoint, 10 entries' content checked/);
    const viaService = await monitor(['--tiles', `${base}/v1/log`, '--server', base, '--state', path.join(dir, 's.json')]);
    assert.equal(viaService.status, 0, viaService.stderr);
  });

  it('exits 9 on a mirror swapped for another tree of the same size under the same key, and on one rolled back', async () => {
    // Another tree of 280 entries, signed by the log's own key: a fork only the saved state reveals.
    const swapped = path.join(dir, 'swapped');
    await writeTilesFolder(swapped, { origin: 'tlog.modelsign.test', size: 280, leaf: () => new Uint8Array(randomBytes(60)), signer: t.services.keys.signer('log') });
    const swappedUrl = await serve(swapped);
    cpSync(path.join(dir, 'm.json'), path.join(dir, 'm-fork.json'));
    const fork = await monitor(['--tiles', swappedUrl, '--state', path.join(dir, 'm-fork.json')]);
    assert.equal(fork.status, 9, fork.stdout + fork.stderr);
    assert.match(fork.stderr, /fork: two different trees of size 280/);
    // Saved at 270, the swapped tree of 280 does not extend it.
    cpSync(path.join(dir, 'm-270.json'), path.join(dir, 'm-fork2.json'));
    const notExtended = await monitor(['--tiles', swappedUrl, '--state', path.join(dir, 'm-fork2.json')]);
    assert.equal(notExtended.status, 9, notExtended.stdout + notExtended.stderr);
    assert.match(notExtended.stderr, /fork: the log's tree of size 280 does not extend the tree of size 270 this monitor saw/);
    // The mirror rolled back to its checkpoint of 270 entries.
    const rolled = path.join(dir, 'rolled');
    cpSync(out, rolled, { recursive: true });
    writeFileSync(path.join(rolled, 'checkpoint'), firstNote);
    const rollback = await monitor(['--tiles', await serve(rolled), '--state', path.join(dir, 'm.json')]);
    assert.equal(rollback.status, 9, rollback.stdout + rollback.stderr);
    assert.match(rollback.stderr, /rollback: the log's checkpoint has 270 entries, fewer than the 280 this monitor saw/);
    // The state is kept: the real mirror still passes.
    assert.equal((await monitor(['--tiles', mirrorUrl, '--state', path.join(dir, 'm.json')])).status, 0);
  });

  it('exits 9 naming the entry whose data in a bundle does not hash to its level-0 hash', async () => {
    const flipped = path.join(dir, 'flipped');
    cpSync(out, flipped, { recursive: true });
    const file = path.join(flipped, 'tile/entries/001.p/24');
    const bytes = readFileSync(file);
    bytes[10] = bytes[10]! ^ 1; // inside entry 256's data (after its two length bytes)
    writeFileSync(file, bytes);
    const res = await monitor(['--tiles', await serve(flipped), '--vkey', vkey, '--state', path.join(dir, 'f.json')]);
    assert.equal(res.status, 9, res.stdout + res.stderr);
    assert.match(res.stderr, /entry 256: its data in tile\/entries\/001\.p\/24 does not hash to its leaf hash in tile\/0\/001\.p\/24/);
  });

  it('names the entry whose payload was tampered with in the side file', async () => {
    const tampered = path.join(dir, 'tampered');
    cpSync(out, tampered, { recursive: true });
    const file = path.join(tampered, 'modelsign/entries/000.json');
    const side = JSON.parse(readFileSync(file, 'utf8')) as { entries: { payload: string }[] };
    side.entries[5]!.payload = side.entries[6]!.payload;
    writeFileSync(file, JSON.stringify(side));
    const res = await monitor(['--tiles', await serve(tampered), '--vkey', vkey, '--state', path.join(dir, 't.json')]);
    assert.equal(res.status, 9, res.stdout + res.stderr);
    assert.match(res.stderr, /entry 5 \(acme\/m@1\.5\): its payload signs "acme\/m@1\.6", not acme\/m@1\.5/);
    assert.ok(!existsSync(path.join(dir, 't.json')), 'no state is saved');
  });

  it('a mirror of the mirror (--from) copies its side files, checked: a tampered one is refused', async () => {
    const second = path.join(dir, 'second');
    const res = await runCliAsync(['log', 'mirror', '--out', second, '--from', mirrorUrl, '--vkey', vkey]);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(readFileSync(path.join(second, 'modelsign/entries/001.p/24.json'), 'utf8'), readFileSync(path.join(out, 'modelsign/entries/001.p/24.json'), 'utf8'));
    const monitored = await monitor(['--tiles', await serve(second), '--vkey', vkey, '--state', path.join(dir, 'second.json')]);
    assert.equal(monitored.status, 0, monitored.stderr);
    assert.match(monitored.stdout, /280 entries' content checked/);
    const bad = path.join(dir, 'bad-source');
    cpSync(out, bad, { recursive: true });
    const file = path.join(bad, 'modelsign/entries/000.json');
    const side = JSON.parse(readFileSync(file, 'utf8')) as { entries: { release: { version: string } }[] };
    side.entries[9]!.release.version = '9.9';
    writeFileSync(file, JSON.stringify(side));
    const refused = await runCliAsync(['log', 'mirror', '--out', path.join(dir, 'third'), '--from', await serve(bad), '--vkey', vkey]);
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /entry 9 \(acme\/m@9\.9\): its payload signs "acme\/m@1\.9", not acme\/m@9\.9/);
    assert.ok(!existsSync(path.join(dir, 'third', 'checkpoint')));
  });

  it('checks another project\'s tiles log by its hashes (no side files), and a side file that goes missing fails', async () => {
    const other = path.join(dir, 'other');
    const { vkey: otherKey } = await writeTilesFolder(other, { origin: 'example.com/log', size: 600, leaf: (i) => new TextEncoder().encode(`leaf ${i}`), signer: t.services.keys.signer('log') });
    const res = await monitor(['--tiles', await serve(other), '--vkey', otherKey, '--state', path.join(dir, 'o.json')]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /pinned example\.com\/log at 600 entries \(no side files: entries checked by their hashes only\)/);
    const gone = path.join(dir, 'gone');
    cpSync(out, gone, { recursive: true });
    rmSync(path.join(gone, 'modelsign/entries/001.p/24.json'));
    // A monitor that checked content at 270 reads only bundle 001 (now 24 wide), whose side file is gone.
    cpSync(path.join(dir, 'm-270.json'), path.join(dir, 'm-gone.json'));
    const missing = await monitor(['--tiles', await serve(gone), '--state', path.join(dir, 'm-gone.json')]);
    assert.equal(missing.status, 9, missing.stdout + missing.stderr);
    assert.match(missing.stderr, /modelsign\/entries\/001\.p\/24\.json is missing, and this log's entries had their content checked before/);
  });
});
