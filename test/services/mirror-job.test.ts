// The service's own mirror (MODELSIGN_MIRROR_DIR): the job writes the log as static tiles with a
// side file per entry bundle, read in process from the tile reader and the log's entries, which
// `log monitor --tiles` passes (content checked) from a plain static server of the folder; later
// runs write only what is new; the periodic job does it by itself; on PostgreSQL one instance at a
// time (a held lock makes another skip its turn). That a database restored behind the folder's
// checkpoint stops appending is in test/server/restore-drill.test.ts.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { tryMirrorLock } from '../../src/db/tile-store.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { TEST_DB } from '../support/db.ts';
import { signRelease } from '../support/keys.ts';
import { runCliAsync } from '../support/process.ts';
import { serveFolder } from '../support/tiles.ts';

describe('the mirror job (MODELSIGN_MIRROR_DIR)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-mirror-job-'));
  const apps: TestApp[] = [];
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) s.close();
    for (const t of apps) await t.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sign = async (t: TestApp, versions: string[]) => {
    const token = await t.publisherToken('acme');
    for (const v of versions) assert.equal((await signRelease(t, token, v)).status, 201);
    await t.services.checkpointer.checkpointNow();
  };

  it('mirrors the served log with side files, which log monitor --tiles passes; later runs write only what is new', async () => {
    const out = path.join(dir, 'a');
    const t = await createTestApp({ mirrorDir: out });
    apps.push(t);
    await sign(t, ['1.0', '1.1', '1.2']);
    const first = await t.services.mirror!.run();
    assert.equal(first?.size, 3);
    // tile/0/000.p/3, tile/entries/000.p/3 and its side file.
    assert.equal(first?.files, 3);
    assert.equal(readFileSync(path.join(out, 'checkpoint'), 'utf8'), (await t.app.inject({ url: '/v1/log/checkpoint' })).body);
    assert.equal(readFileSync(path.join(out, 'vkey'), 'utf8').trim(), (await t.app.inject({ url: '/v1/log/vkey' })).body.trim());
    const { server, url } = await serveFolder(out);
    servers.push(server);
    const state = path.join(dir, 'a.json');
    const monitored = await runCliAsync(['log', 'monitor', '--tiles', url, '--vkey', readFileSync(path.join(out, 'vkey'), 'utf8').trim(), '--state', state]);
    assert.equal(monitored.status, 0, monitored.stderr);
    assert.match(monitored.stdout, /at 3 entries, 3 entries' content checked/);

    await sign(t, ['1.3', '1.4']);
    const second = await t.services.mirror!.run();
    assert.deepEqual([second?.size, second?.previousSize, second?.files], [5, 3, 3]);
    assert.equal((await t.services.mirror!.run())?.files, 0, 'nothing new, nothing written');
    const again = await runCliAsync(['log', 'monitor', '--tiles', url, '--state', state]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /grew by 2 to 5 entries, consistent with the saved checkpoint, 2 entries' content checked/);
  });

  it('runs by itself every MODELSIGN_MIRROR_INTERVAL', async () => {
    const out = path.join(dir, 'b');
    const t = await createTestApp({ mirrorDir: out, mirrorIntervalMs: 200 });
    apps.push(t);
    await sign(t, ['2.0']);
    const deadline = Date.now() + 20_000;
    while (!(existsSync(path.join(out, 'checkpoint')) && readFileSync(path.join(out, 'checkpoint'), 'utf8').split('\n')[1] === '1')) {
      assert.ok(Date.now() < deadline, 'the job did not mirror within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(existsSync(path.join(out, 'modelsign/entries/000.p/1.json')));
  });

  it('runs on one instance at a time: while another holds the lock, a turn is skipped', { skip: TEST_DB === 'postgres' ? false : 'an embedded database has one instance (the job takes no lock there); the PostgreSQL pass runs it' }, async () => {
    const out = path.join(dir, 'c');
    const t = await createTestApp({ mirrorDir: out });
    apps.push(t);
    await sign(t, ['3.0']);
    let release = () => {};
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const holder = t.services.db.sqlTransaction(async (s) => {
      assert.equal(await tryMirrorLock(s), true);
      held();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await holding;
    assert.equal(await t.services.mirror!.run(), undefined, 'skipped while the lock is held');
    assert.ok(!existsSync(path.join(out, 'checkpoint')));
    release();
    await holder;
    assert.equal((await t.services.mirror!.run())?.size, 1);
  });
});
