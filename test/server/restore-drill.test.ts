// The backup drill of the README ("Backup and restore"), with the tools it names: a backup taken
// with `pg_dump -Fc`, 100 more releases signed and mirrored (`log mirror`, served as a plain
// folder at MODELSIGN_MIRROR_URL), the backup restored with `pg_restore --clean --if-exists`.
// The same refusal comes from the service's own mirror folder (MODELSIGN_MIRROR_DIR).
// The restored service refuses to append (503 log_behind_published naming both sizes) before its
// first append, and nothing is appended; reads go on (checkpoint, signatures, verification). The
// two documented recoveries then work: restoring the newer backup (signing resumes and the mirror
// follows it), or starting a new log (a new database, MODELSIGN_LOG_ORIGIN and mirror folder).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../../src/db/client.ts';
import { createTestApp, listenTestApp, testKek, type TestApp } from '../support/app.ts';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../support/db.ts';
import { signRelease } from '../support/keys.ts';
import { runCliAsync } from '../support/process.ts';
import { serveFolder } from '../support/tiles.ts';

describe('the backup drill: restore behind a published mirror', { skip: TEST_DB === 'postgres' ? false : 'needs PostgreSQL (pg_dump and pg_restore, as the README documents); the PostgreSQL pass of npm test runs it' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-restore-drill-'));
  const servers: Server[] = [];
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const s of servers) s.close();
    for (const c of cleanup.reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to append after the restore, naming both sizes; reads go on; the newer backup or a new log recovers', { timeout: 300_000 }, async () => {
    const kek = testKek();
    const original = await createTestDatabase('postgres');
    cleanup.push(() => original.drop());
    const url = original.url!;
    const mirror = await serveFolder(path.join(dir, 'mirror'));
    servers.push(mirror.server);
    // Each start opens its own pool on the one database, as a restarted service would.
    const start = async (o: { mirrorUrl?: string | null; mirrorDir?: string; logOrigin?: string; database?: TestDatabase } = {}): Promise<TestApp> => {
      const database = o.database ?? { db: await openDatabase({ url, poolSize: 5 }), url, drop: async () => undefined };
      const mirrorUrl = o.mirrorUrl === null ? undefined : (o.mirrorUrl ?? mirror.url);
      const t = await createTestApp({ database, kek, ...(mirrorUrl ? { mirrorUrl } : {}), ...(o.mirrorDir ? { mirrorDir: o.mirrorDir } : {}), ...(o.logOrigin ? { logOrigin: o.logOrigin } : {}) });
      const close = t.close.bind(t);
      return Object.assign(t, { close: async () => (await close(), await database.db.close()) });
    };
    const counts = async (t: TestApp) => {
      const [row] = await t.services.db.query<{ size: string; signatures: string }>('SELECT (SELECT "size"::text FROM "tlog_state") AS "size", (SELECT count(*)::text FROM "release_signatures") AS "signatures"');
      return { size: Number(row!.size), signatures: Number(row!.signatures) };
    };

    // Five releases, then the backup.
    let a = await start({ database: { ...original, drop: async () => undefined } });
    const token = await a.publisherToken('acme');
    const early: { id: string; bundle: unknown }[] = [];
    for (let i = 0; i < 5; i++) {
      const signed = await signRelease(a, token, `1.${i}`);
      assert.equal(signed.status, 201);
      early.push(signed.body);
    }
    await a.services.checkpointer.checkpointNow();
    await a.app.close();
    await a.services.stop();
    execFileSync('pg_dump', ['-Fc', '-d', url, '-f', path.join(dir, 'backup-1.dump')]);

    // 100 more, mirrored (and a second backup: the newer one).
    a = await start();
    for (let i = 0; i < 100; i++) assert.equal((await signRelease(a, token, `2.${i}`)).status, 201);
    await a.services.checkpointer.checkpointNow();
    const mirrored = await runCliAsync(['log', 'mirror', '--out', path.join(dir, 'mirror'), '--server', await listenTestApp(a)]);
    assert.equal(mirrored.status, 0, mirrored.stderr);
    assert.match(mirrored.stdout, /at size 105: /);
    await a.close();
    execFileSync('pg_dump', ['-Fc', '-d', url, '-f', path.join(dir, 'backup-2.dump')]);

    // The older backup restored, as the README says.
    execFileSync('pg_restore', ['--clean', '--if-exists', '-d', url, path.join(dir, 'backup-1.dump')]);
    const restored = await start();
    try {
      assert.deepEqual(await counts(restored), { size: 5, signatures: 5 });
      const refused = await signRelease(restored, await restored.publisherToken('acme'), '3.0');
      assert.equal(refused.status, 503);
      assert.equal(refused.body.code, 'log_behind_published');
      assert.match(JSON.stringify(refused.body), /published a checkpoint of size 105 \(the mirror at http:\/\/127\.0\.0\.1:\d+\) but its database holds a tree of 5/);
      assert.deepEqual(await counts(restored), { size: 5, signatures: 5 }, 'nothing appended');
      // Reads go on.
      assert.equal((await restored.app.inject({ url: '/v1/log/checkpoint' })).body.split('\n')[1], '5');
      assert.equal((await restored.app.inject({ url: `/v1/signatures/${early[2]!.id}` })).statusCode, 200);
      const verdict = await restored.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle: early[2]!.bundle } });
      assert.equal(verdict.json().valid, true, verdict.body);
      const ready = (await restored.app.inject({ url: '/readyz' })).json();
      assert.equal(ready.signing, false);
      assert.equal(ready.checks.log, 'behind-published');
    } finally {
      await restored.close();
    }

    // The same from a mirror folder the service keeps itself (MODELSIGN_MIRROR_DIR), with no URL;
    // its mirror job leaves the folder (the evidence) as it is.
    const viaFolder = await start({ mirrorUrl: null, mirrorDir: path.join(dir, 'mirror') });
    try {
      const refused = await signRelease(viaFolder, await viaFolder.publisherToken('acme'), '3.0');
      assert.equal(refused.status, 503);
      assert.match(JSON.stringify(refused.body), /published a checkpoint of size 105 \(the mirror folder .*mirror\) but its database holds a tree of 5/);
      const kept = readFileSync(path.join(dir, 'mirror', 'checkpoint'), 'utf8');
      assert.equal(await viaFolder.services.mirror!.run(), undefined);
      assert.equal(readFileSync(path.join(dir, 'mirror', 'checkpoint'), 'utf8'), kept);
    } finally {
      await viaFolder.close();
    }

    // Recovery 1: the newer backup. Signing resumes, and the mirror follows.
    execFileSync('pg_restore', ['--clean', '--if-exists', '-d', url, path.join(dir, 'backup-2.dump')]);
    const recovered = await start();
    try {
      assert.deepEqual(await counts(recovered), { size: 105, signatures: 105 });
      assert.equal((await signRelease(recovered, await recovered.publisherToken('acme'), '3.0')).status, 201);
      await recovered.services.checkpointer.checkpointNow();
      const followed = await runCliAsync(['log', 'mirror', '--out', path.join(dir, 'mirror'), '--server', await listenTestApp(recovered)]);
      assert.equal(followed.status, 0, followed.stderr);
      assert.match(followed.stdout, /at size 106 \(was 105\)/);
    } finally {
      await recovered.close();
    }

    // Recovery 2: a new log (a new database, origin and mirror folder).
    const fresh = await createTestDatabase('postgres');
    cleanup.push(() => fresh.drop());
    const secondMirror = await serveFolder(path.join(dir, 'mirror-2'));
    servers.push(secondMirror.server);
    const renewed = await start({ database: { ...fresh, drop: async () => undefined }, logOrigin: 'tlog2.modelsign.test', mirrorUrl: secondMirror.url });
    try {
      assert.equal((await signRelease(renewed, await renewed.publisherToken('acme'), '1.0')).status, 201);
      await renewed.services.checkpointer.checkpointNow();
      assert.match((await renewed.app.inject({ url: '/v1/log/checkpoint' })).body, /^tlog2\.modelsign\.test\n1\n/);
    } finally {
      await renewed.app.close();
      await renewed.services.stop();
    }
  });
});
