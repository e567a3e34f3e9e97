// Split views: `log monitor --witness-policy`. An authority shows its witnesses one tree and a
// monitor another: here, the log's database copied (same keys, same origin) and grown apart, the
// copy served to the monitor as a test double while the original is witnessed by `modelsign
// witness`. The monitor compares what the log serves it with what the witness cosigned (its
// monitoring endpoint): the same size with another root, or a larger tree the witness's root is
// not consistent with, exits 9 naming the witness; the honest log passes, naming the witness as
// agreeing; --monitoring NAME=URL gives a prefix the policy line lacks.
// Runs once: the monitor is a client; the witness's storage runs on both databases in test/server/witness-mode.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestApp, listenTestApp, testKek, type TestApp } from '../support/app.ts';
import { backupTestDatabase, createTestDatabase, type TestDatabase } from '../support/db.ts';
import { signRelease } from '../support/keys.ts';
import { runCliAsync } from '../support/process.ts';
import { startModelsignWitness, type ModelsignWitness } from '../support/witness-mode.ts';
import { until } from '../support/until.ts';

describe('log monitor --witness-policy: a split view', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-split-view-'));
  const kek = testKek();
  let database: TestDatabase;
  let copy: TestDatabase;
  let honest: TestApp;
  let double: TestApp;
  let witness: ModelsignWitness;
  let honestUrl: string;
  let doubleUrl: string;
  const policyFile = path.join(dir, 'policy');
  const bare = path.join(dir, 'bare-policy');
  const cosignedSize = async () => {
    const note = (await honest.app.inject({ url: '/v1/log/checkpoint' })).body;
    return note.includes('\u2014 witness.modelsign.test ') ? Number(note.split('\n')[1]) : 0;
  };

  before(async () => {
    database = await createTestDatabase();
    const first = await createTestApp({ database, kek });
    const logVkey = (await first.app.inject({ url: '/v1/log/vkey' })).body.trim();
    await first.close();
    witness = await startModelsignWitness({ name: 'witness.modelsign.test', logs: [{ vkey: logVkey }] });
    honest = await createTestApp({ database, kek, witnesses: { policy: `log ${logVkey}\nwitness w ${witness.parts.witness.vkey} ${witness.url}\nquorum w\n` } });
    const token = await honest.publisherToken('acme');
    for (let i = 0; i < 3; i++) assert.equal((await signRelease(honest, token, `1.${i}`)).status, 201);
    await until('the witness cosigned 3', async () => (await cosignedSize()) >= 3);
    // The double: the same database as it was, grown apart from here on.
    copy = await (await backupTestDatabase(database)).restore();
    double = await createTestApp({ database: copy, kek });
    const doubleToken = await double.publisherToken('acme');
    for (const v of ['9.1', '9.2']) assert.equal((await signRelease(double, doubleToken, v)).status, 201);
    await double.services.checkpointer.checkpointNow();
    const sizeThere = Number((await double.app.inject({ url: '/v1/log/checkpoint' })).body.split('\n')[1]);
    for (let i = 3; (await cosignedSize()) < sizeThere; i++) {
      assert.equal((await signRelease(honest, token, `1.${i}`)).status, 201);
      await until('the witness caught up', async () => (await cosignedSize()) >= Math.min(sizeThere, i + 1));
    }
    honestUrl = await listenTestApp(honest);
    doubleUrl = await listenTestApp(double);
    writeFileSync(policyFile, `witness w ${witness.parts.witness.vkey} ${witness.url}\nquorum w\n`);
    writeFileSync(bare, `witness w ${witness.parts.witness.vkey}\nquorum w\n`);
  });
  after(async () => {
    await double?.close();
    await honest?.close();
    await witness?.close();
    await copy?.drop();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes on the honest log, the witness agreeing', async () => {
    const res = await runCliAsync(['log', 'monitor', '--server', honestUrl, '--state', path.join(dir, 'honest.json'), '--witness-policy', policyFile, '--json']);
    assert.equal(res.status, 0, res.stdout + res.stderr);
    const out = JSON.parse(res.stdout) as { size: number; witnesses: { witness: string; status: string; size: number }[] };
    assert.deepEqual(out.witnesses.map((v) => [v.witness, v.status]), [['w', 'agrees']]);
  });

  it('exits 9 naming the witness when the log shows the monitor another tree of the size the witness cosigned', async () => {
    const served = Number((await double.app.inject({ url: '/v1/log/checkpoint' })).body.split('\n')[1]);
    assert.equal(await cosignedSize(), served, 'the witness holds a tree of the same size');
    const res = await runCliAsync(['log', 'monitor', '--server', doubleUrl, '--state', path.join(dir, 'double.json'), '--witness-policy', policyFile]);
    assert.equal(res.status, 9, res.stdout + res.stderr);
    assert.match(res.stderr, new RegExp(`split view: witness w cosigned a tree of size ${served} that is not the one this log shows here at size ${served} \\(the same size with another root\\)`));
  });

  it('exits 9 when the larger tree the log shows does not extend the one the witness cosigned; --monitoring gives the prefix', async () => {
    assert.equal((await signRelease(double, await double.publisherToken('acme'), '9.3')).status, 201);
    await double.services.checkpointer.checkpointNow();
    const res = await runCliAsync(['log', 'monitor', '--server', doubleUrl, '--state', path.join(dir, 'double-2.json'), '--witness-policy', bare, '--monitoring', `w=${witness.url}`]);
    assert.equal(res.status, 9, res.stdout + res.stderr);
    assert.match(res.stderr, /split view: witness w cosigned a tree of size \d+ .*consistency proof from \d+ to \d+ does not join them/);
    const unknown = await runCliAsync(['log', 'monitor', '--server', doubleUrl, '--state', path.join(dir, 'x.json'), '--witness-policy', bare, '--monitoring', `v=${witness.url}`]);
    assert.equal(unknown.status, 2, unknown.stdout + unknown.stderr);
  });
});
