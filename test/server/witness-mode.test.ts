// `modelsign witness` beyond the spec's table (test/server/witness-conformance.test.ts has that):
// a modelsign log's own witness client gets its checkpoints cosigned and serves them; requests
// over the rate limit get 429; a log's key is pinned (another key in the configuration stops the
// start; the audited set-log-key changes it); a log whose checkpoint cannot be read since the
// start is refused (503) until it answers; and a witness whose database was restored from an
// older backup (the database alone: no file beside it) refuses to start, naming the log and both
// sizes, when the log or a fellow witness shows a checkpoint it cosigned beyond what it holds.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { parseWitnessPolicy } from '../../src/core/tlog/witness-policy.ts';
import { verifyBundle, keySet } from '../../src/core/verifier.ts';
import { trustedKeyOf } from '../../src/core/keys/key.ts';
import { changeWitnessedLogKey, WitnessStartError } from '../../src/services/witness-server.ts';
import { createTestApp, testKek } from '../support/app.ts';
import { backupTestDatabase, createTestDatabase, type TestDatabase } from '../support/db.ts';
import { signRelease } from '../support/keys.ts';
import { TestWitness } from '../support/test-witness.ts';
import { addCheckpoint, startModelsignWitness } from '../support/witness-mode.ts';
import { WitnessTestLog } from '../support/witness-log.ts';
import { until } from '../support/until.ts';

describe('modelsign witness', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('cosigns a modelsign log through the log\'s own witness client; the release verifies with a policy naming it', async () => {
    // The log's key exists once its service has started: start it once, then witness it.
    const database = await createTestDatabase();
    cleanup.push(() => database.drop());
    const kek = testKek();
    const first = await createTestApp({ database, kek });
    const logVkey = (await first.app.inject({ url: '/v1/log/vkey' })).body.trim();
    await first.close();
    const w = await startModelsignWitness({ name: 'witness.modelsign.test', logs: [{ vkey: logVkey }] });
    cleanup.push(() => w.close());
    const policy = `log ${logVkey}\nwitness w ${w.parts.witness.vkey} ${w.url}\nquorum w\n`;
    const t = await createTestApp({ database, kek, witnesses: { policy } });
    cleanup.push(() => t.close());
    const signed = await signRelease(t, await t.publisherToken('acme'), '1.0');
    assert.equal(signed.status, 201);
    const note = await until('a cosigned checkpoint', async () => {
      const body = (await t.app.inject({ url: '/v1/log/checkpoint' })).body;
      return body.includes('\u2014 witness.modelsign.test ') && Number(body.split('\n')[1]) > signed.body.logIndex ? body : undefined;
    });
    // The witness's monitoring endpoint holds the same tree.
    const monitored = await fetch(`${w.url}/${createHash('sha256').update(note.split('\n')[0]!).digest('hex')}/checkpoint`);
    assert.equal((await monitored.text()).split('\n').slice(0, 3).join('\n'), note.split('\n').slice(0, 3).join('\n'));
    const proof = await until('the release\'s tlog-proof', async () => {
      const res = await t.app.inject({ url: `/v1/signatures/${signed.body.id}/tlog-proof` });
      return res.statusCode === 200 ? res.body : undefined;
    });
    const keys = keySet(t.services.keys.list().map(trustedKeyOf));
    const verdict = verifyBundle(signed.body.bundle, { ...keys, witnesses: { policy: parseWitnessPolicy(policy), proof, now: Date.now() } });
    assert.equal(verdict.valid, true, JSON.stringify(verdict.reasons));
  });

  it('answers 429 past MODELSIGN_WITNESS_RATE_LIMIT requests a minute from one address', async () => {
    const log = new WitnessTestLog('log.example.org/limited', 0x31);
    const w = await startModelsignWitness({ name: 'witness.modelsign.test', logs: [{ vkey: log.vkey }], perMinute: 3 });
    cleanup.push(() => w.close());
    for (let i = 0; i < 3; i++) assert.notEqual((await addCheckpoint(w.url, 'old 0\n')).status, 429);
    const res = await fetch(`${w.url}/add-checkpoint`, { method: 'POST', body: 'old 0\n' });
    assert.equal(res.status, 429);
    assert.match(res.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
  });

  it('pins a log\'s key: another key configured stops the start; set-log-key changes it, in the audit trail', async () => {
    const log = new WitnessTestLog('log.example.org/pinned', 0x32);
    const rekeyed = new WitnessTestLog('log.example.org/pinned', 0x33);
    const database = await createTestDatabase();
    cleanup.push(() => database.drop());
    const kek = testKek();
    const first = await startModelsignWitness({ name: 'witness.modelsign.test', logs: [{ vkey: log.vkey }], database, kek });
    assert.equal((await addCheckpoint(first.url, await log.request(0, 4))).status, 200);
    await first.close();
    await assert.rejects(
      startModelsignWitness({ name: 'witness.modelsign.test', logs: [{ vkey: rekeyed.vkey }], database, kek }),
      (err: unknown) => err instanceof WitnessStartError && err.kind === 'configuration' && err.message.includes(log.vkey) && err.message.includes('set-log-key'),
    );
    assert.equal(await changeWitnessedLogKey(database.db, log.origin, rekeyed.vkey, 'cli:test', new Date()), log.vkey);
    const [event] = await database.db.query<{ action: string; target: string; details: { from: string; to: string } }>(`SELECT "action", "target", "details" FROM "audit_events" WHERE "action" = 'witness.log_key_changed'`);
    assert.deepEqual([event?.target, event?.details.from, event?.details.to], [`log:${log.origin}`, log.vkey, rekeyed.vkey]);
    const second = await startModelsignWitness({ name: 'witness.modelsign.test', logs: [{ vkey: rekeyed.vkey }], database, kek });
    cleanup.push(() => second.close());
    // Sealed into the audit chain at that start.
    const [sealed] = await database.db.query<{ seq: string | null }>(`SELECT "seq"::text AS "seq" FROM "audit_events" WHERE "action" = 'witness.log_key_changed'`);
    assert.notEqual(sealed?.seq, null);
    // The old key's checkpoints are refused now; the new one's extend what was held.
    assert.equal((await addCheckpoint(second.url, await log.request(4, 8))).status, 403);
    assert.equal((await addCheckpoint(second.url, await rekeyed.request(4, 4, { note: await rekeyed.note(4, log.checkpoint(4)) }))).status, 200);
  });

  it('refuses a log (503) until its checkpoint has been read once since the start', async () => {
    const log = await new WitnessTestLog('log.example.org/late', 0x34).serve();
    cleanup.push(() => log.close());
    const w = await startModelsignWitness({ name: 'witness.modelsign.test', logs: [{ vkey: log.vkey, url: log.url }], retryMs: 50 });
    cleanup.push(() => w.close());
    const refused = await addCheckpoint(w.url, await log.request(0, 3));
    assert.equal(refused.status, 503);
    assert.match(refused.text, /has not yet read log\.example\.org\/late's checkpoint/);
    log.served = await log.note(3);
    await until('the log read', () => w.parts.witness.waiting.length === 0 || undefined);
    assert.equal((await addCheckpoint(w.url, await log.request(0, 3))).status, 200);
  });

  it('restored from an older backup (its database alone), refuses to start, naming the log and both sizes', async () => {
    const log = await new WitnessTestLog('log.example.org/restored', 0x35).serve();
    cleanup.push(() => log.close());
    const kek = testKek();
    const database = await createTestDatabase();
    cleanup.push(() => database.drop());
    const w = await startModelsignWitness({ name: 'witness.modelsign.test', logs: [{ vkey: log.vkey, url: log.url }], database, kek });
    log.served = await log.note(0);
    await until('the log read', () => w.parts.witness.waiting.length === 0 || undefined);
    const cosign = async (old: number, size: number) => {
      const answer = await addCheckpoint(w.url, await log.request(old, size));
      assert.equal(answer.status, 200, answer.text);
      // The log shows what it collected: its note with the witness's line.
      log.served = `${await log.note(size)}${answer.text}`;
    };
    await cosign(0, 10);
    const backup = await backupTestDatabase(database);
    await cosign(10, 30);
    await w.close();
    const restored: TestDatabase = await (await backupTestDatabase(database)).restore();
    cleanup.push(() => restored.drop());
    // The newest backup starts.
    const fine = await startModelsignWitness({ name: 'witness.modelsign.test', logs: [{ vkey: log.vkey, url: log.url }], database: restored, kek });
    await fine.close();
    const older = await backup.restore();
    cleanup.push(() => older.drop());
    await assert.rejects(
      startModelsignWitness({ name: 'witness.modelsign.test', logs: [{ vkey: log.vkey, url: log.url }], database: older, kek }),
      (err: unknown) => err instanceof WitnessStartError && err.kind === 'behind' && /log\.example\.org\/restored of size 30 cosigned by this witness, but its database holds 10/.test(err.message),
    );
    // Without the log's URL, a fellow witness's monitoring endpoint shows the same.
    const peer = await new TestWitness({ index: 5, logs: [{ origin: log.origin, key: log.key }] }).start();
    cleanup.push(() => peer.close());
    assert.equal((await addCheckpoint(peer.url, await log.request(0, 30, { note: log.served }))).status, 200);
    await assert.rejects(
      startModelsignWitness({ name: 'witness.modelsign.test', logs: [{ vkey: log.vkey }], peers: [{ name: 'peer', url: peer.url }], database: older, kek }),
      (err: unknown) => err instanceof WitnessStartError && /the witness peer shows a checkpoint of log\.example\.org\/restored of size 30/.test(err.message),
    );
  });
});
