// A witnessed log (MODELSIGN_WITNESS_POLICY): the service submits its committed checkpoints to
// C2SP witnesses and serves what they cosign. Driven against test witnesses (test/support/
// test-witness.ts: spec-exact, with omniwitness's and litewitness's differences as switches):
// first contact, growth with consistency proofs, a stale old size, a size beyond our tree, a
// fork, a bad proof, an unknown log, pushback, a restart that loses nothing, and no checkpoint
// sent that is not committed. Plus what is served (the witnessed checkpoint, only forward; the
// release's witness proof, which verifies with the user's policy), the log key frozen while
// witnessed, and alarms reported by /readyz with status 200.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { parseAddCheckpoint } from '../../src/core/tlog/add-checkpoint.ts';
import { parseCheckpoint } from '../../src/core/tlog/checkpoint.ts';
import { parseSignedNote } from '../../src/core/tlog/signed-note.ts';
import { parseWitnessPolicy } from '../../src/core/tlog/witness-policy.ts';
import { witnessKeyOf } from '../../src/core/tlog/cosignature.ts';
import { trustedKeyOf } from '../../src/core/keys/key.ts';
import { keySet, verifyBundle } from '../../src/core/verifier.ts';
import type { Services } from '../../src/services/index.ts';
import { bearer, createTestApp, listenTestApp, testKek, type TestApp } from '../support/app.ts';
import { runCliAsync } from '../support/process.ts';
import { serveFolder } from '../support/tiles.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../src/db/client.ts';
import { ADMIN_URL, createPostgresDatabase, createTestDatabase, TEST_DB } from '../support/db.ts';
import { signRelease } from '../support/keys.ts';
import { TestWitness, type WitnessFlavour } from '../support/test-witness.ts';
import { cosignEd25519, ED25519_WITNESSES } from '../support/witness-cases.ts';
import { storeCosignature } from '../../src/db/witness-store.ts';
import { claimLogOrigin } from '../../src/db/log-store.ts';
import { LogOriginError } from '../../src/services/log-origin.ts';
import { keyIdHex, parseVkey } from '../../src/core/tlog/vkey.ts';
import { until } from '../support/until.ts';

const ORIGIN = 'tlog.modelsign.test';

/** A witness that knows this log's key (read from the services once they started). */
function witnessFor(index: number, holder: { services?: Services }, flavour: WitnessFlavour = 'spec'): TestWitness {
  return new TestWitness({
    index,
    flavour,
    logs: [{ origin: ORIGIN, key: () => holder.services?.keys.list().find((k) => k.purpose === 'log' && k.status === 'active') }],
  });
}

const witnessKeyId = (w: TestWitness) => keyIdHex(witnessKeyOf(parseVkey(w.vkey)).keyId);

const committedNotes = async (t: TestApp) => new Set((await t.services.db.query<{ note: string }>('SELECT "note" FROM "tlog_checkpoints"')).map((r) => r.note));

describe('a witnessed log', () => {
  const holder: { services?: Services } = {};
  let w0: TestWitness;
  let w1: TestWitness;
  let t: TestApp;
  let token: string;
  let policy: string;
  let version = 0;
  const sign = async () => {
    const res = await signRelease(t, token, `1.${version++}`);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };

  before(async () => {
    w0 = await witnessFor(0, holder).start();
    w1 = await witnessFor(1, holder, 'omniwitness').start();
    policy = `${w0.policyLine('w0')}\n${w1.policyLine('w1')}\ngroup both all w0 w1\nquorum both\n`;
    t = await createTestApp({ witnesses: { policy }, onServices: (s) => (holder.services = s) });
    token = await t.publisherToken('acme');
  });
  after(async () => {
    await t?.close();
    await w0?.close();
    await w1?.close();
  });

  it('submits the first checkpoint with old size 0 and no proof, stores both cosignatures and serves the checkpoint with them', async () => {
    await sign();
    const size = await until('both witnesses to cosign', async () => (await t.services.witnesses!.client.states()).every((s) => (s.cosignedSize ?? 0) >= 1) || undefined);
    assert.ok(size);
    const first = parseAddCheckpoint(w0.requests[0]!.body);
    assert.equal(first.oldSize, 0);
    assert.deepEqual(first.proof, []);
    const note = await until('the witnessed checkpoint', async () => {
      const body = (await t.app.inject({ url: '/v1/log/checkpoint' })).body;
      return body.includes(`\u2014 ${w0.name} `) && body.includes(`\u2014 ${w1.name} `) ? body : undefined;
    });
    // Only the log's own lines were sent: the body is within omniwitness's 16 KiB.
    const sent = parseSignedNote(first.note);
    assert.ok(sent.signatures.every((s) => s.name === ORIGIN));
    assert.ok(Buffer.byteLength(w0.requests[0]!.body) < 16 * 1024);
    assert.equal(parseSignedNote(note).signatures.length, 4);
  });

  it('sends each later checkpoint with a consistency proof from the size the witness holds, and never a checkpoint that is not committed', async () => {
    for (let i = 0; i < 5; i++) await sign();
    const tree = (await t.services.log.latestCheckpoint()).size;
    await until('the witnesses to reach the tree', async () => (await t.services.witnesses!.client.states()).every((s) => s.cosignedSize === tree) || undefined);
    const committed = await committedNotes(t);
    for (const w of [w0, w1]) {
      const grown = w.requests.filter((r) => r.status === 200).map((r) => parseAddCheckpoint(r.body));
      assert.ok(grown.some((r) => r.oldSize > 0 && r.proof.length > 0), 'a request with a consistency proof');
      for (const r of grown) assert.ok(committed.has(r.note), 'every checkpoint sent is a stored one');
      // In increasing size.
      const sizes = grown.map((r) => parseCheckpoint(parseSignedNote(r.note).text).size);
      assert.deepEqual(sizes, [...sizes].sort((a, b) => a - b));
      assert.equal(w.maxInFlight, 1);
    }
  });

  it('serves a release\'s witness proof, which verifies offline with the user\'s policy', async () => {
    const signed = await sign();
    const proof = await until('the proof', async () => {
      const res = await t.app.inject({ url: `/v1/signatures/${signed.id}/tlog-proof` });
      return res.statusCode === 200 ? res.body : undefined;
    });
    // Final (immutable) only now that its proof exists.
    assert.equal((await t.app.inject({ url: `/v1/signatures/${signed.id}` })).headers['cache-control'], 'public, max-age=3600, immutable');
    const keys = keySet(t.services.keys.list().map(trustedKeyOf));
    const userPolicy = parseWitnessPolicy(policy);
    const withProof = verifyBundle(signed.bundle, { ...keys, witnesses: { policy: userPolicy, proof, now: Date.now() } });
    assert.deepEqual(withProof.reasons, []);
    const without = verifyBundle(signed.bundle, { ...keys, witnesses: { policy: userPolicy, now: Date.now() } });
    assert.deepEqual(without.reasons.map((r) => r.code), ['witness_quorum_not_met']);
  });

  it('answers 404 proof_not_ready while no witnessed checkpoint covers the entry', async () => {
    w0.pushback = true;
    try {
      const signed = await sign();
      const res = await t.app.inject({ url: `/v1/signatures/${signed.id}/tlog-proof` });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'proof_not_ready');
      assert.equal(res.headers['retry-after'], '5');
      // Not final while its proof does not exist.
      assert.equal((await t.app.inject({ url: `/v1/signatures/${signed.id}` })).headers['cache-control'], 'no-cache');
      // Pushback: the client backs off.
      await until('pushback to be seen', async () => ((await t.services.witnesses!.client.states()).find((s) => s.name === 'w0')!.status === 'pushback') || undefined);
    } finally {
      w0.pushback = false;
    }
  });

  it('refuses to rotate the log key while witnessed (409 log_key_witnessed)', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(await t.adminToken()), payload: { purpose: 'log' } });
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json().code, 'log_key_witnessed');
  });

  it('lists the witnesses and serves the log\'s vkey', async () => {
    const res = await t.app.inject({ url: '/v1/log/witnesses' });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.configured, true);
    assert.equal(body.policy, policy);
    assert.deepEqual(body.witnesses.map((w: { name: string }) => w.name), ['w0', 'w1']);
    const vkey = (await t.app.inject({ url: '/v1/log/vkey' })).body.trim();
    assert.match(vkey, new RegExp(`^${ORIGIN.replace(/\./g, '\\.')}\\+[0-9a-f]{8}\\+`));
  });
});

describe('witness answers that need a person', () => {
  let t: TestApp | undefined;
  let witness: TestWitness | undefined;
  afterEach(async () => {
    await t?.close();
    await witness?.close();
    t = undefined;
    witness = undefined;
  });

  async function setup(flavour: WitnessFlavour = 'spec', knowsLog = true) {
    const holder: { services?: Services } = {};
    witness = await new TestWitness({ index: 2, flavour, logs: knowsLog ? [{ origin: ORIGIN, key: () => holder.services?.keys.list().find((k) => k.purpose === 'log' && k.status === 'active') }] : [] }).start();
    t = await createTestApp({ witnesses: { policy: `${witness.policyLine('w')}\nquorum w\n` }, onServices: (s) => (holder.services = s) });
    const token = await t.publisherToken('acme');
    let n = 0;
    return {
      sign: async () => assert.equal((await signRelease(t!, token, `2.${n++}`)).status, 201),
      state: async () => (await t!.services.witnesses!.client.states())[0]!,
    };
  }

  const readyz = async () => {
    const res = await t!.app.inject({ url: '/readyz' });
    return { status: res.statusCode, body: res.json() };
  };

  it('resyncs to the size a witness holds (409 text/x.tlog.size) and sends the proof from there', async () => {
    const { sign, state } = await setup();
    await sign();
    await until('cosigned', async () => ((await state()).cosignedSize ?? 0) >= 1 || undefined);
    // The witness lost its state (restored from an old backup): it holds nothing.
    witness!.state.clear();
    await sign();
    const tree = (await t!.services.log.latestCheckpoint()).size;
    await until('cosigned again', async () => (await state()).cosignedSize === tree || undefined);
    const statuses = witness!.statuses();
    assert.ok(statuses.includes(409), String(statuses));
    const after409 = witness!.requests.slice(statuses.lastIndexOf(409) + 1).find((r) => r.status === 200)!;
    assert.equal(parseAddCheckpoint(after409.body).oldSize, 0);
    assert.equal((await readyz()).body.checks.witnesses, 'ok');
  });

  it('an omniwitness that lost its state trusts the next checkpoint on first use, whatever old size it is sent (no resync needed)', async () => {
    const { sign, state } = await setup('omniwitness');
    await sign();
    await until('cosigned', async () => ((await state()).cosignedSize ?? 0) >= 1 || undefined);
    witness!.state.clear();
    await sign();
    const tree = (await t!.services.log.latestCheckpoint()).size;
    await until('cosigned again', async () => (await state()).cosignedSize === tree || undefined);
    const last = witness!.requests.at(-1)!;
    assert.equal(last.status, 200);
    assert.ok(parseAddCheckpoint(last.body).oldSize > 0, 'sent with the old size it held before');
    assert.ok(!witness!.statuses().includes(409));
  });

  it('a witness holding a size beyond our tree is an alarm only: /readyz stays 200 and signing goes on', async () => {
    const { sign, state } = await setup();
    await sign();
    await until('cosigned', async () => ((await state()).cosignedSize ?? 0) >= 1 || undefined);
    const held = witness!.state.get(ORIGIN)!;
    witness!.state.set(ORIGIN, { ...held, size: 1_000_000 });
    await sign();
    await until('the alarm', async () => (await state()).status === 'ahead' || undefined);
    const r = await readyz();
    assert.equal(r.status, 200);
    assert.equal(r.body.checks.witnesses, 'alarm');
    assert.equal(r.body.witnessAlarms[0].kind, 'ahead');
    assert.equal(r.body.witnessAlarms[0].size, 1_000_000);
    await sign();
    assert.ok(t!.logs.some((l) => l.includes('witness alarm')));
  });

  for (const flavour of ['spec', 'omniwitness'] as const) {
    it(`a fork (the witness holds our size with another root: ${flavour === 'spec' ? '422' : '409 without a size'}) raises the alarm once and is never retried for that checkpoint`, async () => {
      const { sign, state } = await setup(flavour);
      await sign();
      await until('cosigned', async () => ((await state()).cosignedSize ?? 0) >= 1 || undefined);
      await sign();
      const next = (await t!.services.log.latestCheckpoint()).size;
      // The witness "saw" another tree of the next size: the log showed it a different view.
      witness!.state.set(ORIGIN, { size: next, root: new Uint8Array(32).fill(7), note: '' });
      // Our old size for it is behind: the 409 resync brings it to `next`, then the root differs.
      await until('the fork alarm', async () => (['fork', 'proof-refused'].includes((await state()).status) ? true : undefined));
      const refusals = () => witness!.requests.filter((r) => r.status === (flavour === 'spec' ? 422 : 409) && r.contentType === undefined).length;
      const seen = refusals();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(refusals(), seen, 'not retried');
      assert.equal((await readyz()).status, 200);
      assert.equal((await state()).refusedSize, next);
    });
  }

  it('a log made to show another tree (the test rewrites a stored node behind the service) gets the witness\'s refusal, raises the alarm, and keeps serving with /readyz 200', async () => {
    const database = await createTestDatabase();
    const kek = testKek();
    const holder: { services?: Services } = {};
    witness = await new TestWitness({ index: 13, logs: [{ origin: ORIGIN, key: () => holder.services?.keys.list().find((k) => k.purpose === 'log' && k.status === 'active') }] }).start();
    const policy = `${witness.policyLine('w')}\nquorum w\n`;
    try {
      const first = await createTestApp({ database, kek, witnesses: { policy }, onServices: (s) => (holder.services = s) });
      const token = await first.publisherToken('acme');
      assert.equal((await signRelease(first, token, '7.0')).status, 201);
      const cosigned = (await first.services.log.latestCheckpoint()).size;
      await until('cosigned', async () => ((await first.services.witnesses!.client.states())[0]!.cosignedSize === cosigned) || undefined);
      witness.pushback = true;
      for (let i = 1; i <= 3; i++) assert.equal((await signRelease(first, token, `7.${i}`)).status, 201);
      await first.close();
      // Behind the service's back: the stored hash of leaf 1, which the proof from size 1 needs.
      await database.db.sqlTransaction(async (s) => {
        await s.exec('ALTER TABLE "tlog_nodes" DISABLE TRIGGER "tlog_nodes_append_only"');
        await s.query('UPDATE "tlog_nodes" SET "hash" = decode(repeat(\'ab\', 32), \'hex\') WHERE "level" = 0 AND "idx" = 1');
        await s.exec('ALTER TABLE "tlog_nodes" ENABLE TRIGGER "tlog_nodes_append_only"');
      });
      t = await createTestApp({ database, kek, witnesses: { policy }, onServices: (s) => (holder.services = s) });
      witness.pushback = false;
      const state = async () => (await t!.services.witnesses!.client.states())[0]!;
      await until('the witness to refuse the proof', async () => (await state()).status === 'proof-refused' || undefined);
      assert.ok(witness.requests.some((r) => r.status === 422));
      const ready = await t.app.inject({ url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.equal(ready.json().checks.witnesses, 'alarm');
      assert.equal(ready.json().witnessAlarms[0].kind, 'proof-refused');
      assert.ok(t.logs.some((l) => l.includes('witness alarm') && l.includes('refused checkpoint')));
      // Still serving: the checkpoint the witness cosigned is what is served.
      const served = (await t.app.inject({ url: '/v1/log/checkpoint' })).body;
      assert.equal(parseCheckpoint(parseSignedNote(served).text).size, cosigned);
    } finally {
      await t?.close();
      t = undefined;
      await database.drop();
    }
  });

  it('a consistency proof the witness refuses (422) is an alarm', async () => {
    const { sign, state } = await setup();
    await sign();
    await until('cosigned', async () => ((await state()).cosignedSize ?? 0) >= 1 || undefined);
    // The witness holds size 1 with another root: our proof from 1 cannot lead to its root.
    const held = witness!.state.get(ORIGIN)!;
    witness!.state.set(ORIGIN, { ...held, root: new Uint8Array(32).fill(9) });
    await sign();
    await until('the alarm', async () => (await state()).status === 'proof-refused' || undefined);
    assert.ok(witness!.requests.some((r) => r.status === 422));
  });

  for (const flavour of ['spec', 'litewitness'] as const) {
    it(`a witness that does not know the log (${flavour === 'spec' ? 404 : 403}) is reported, and signing goes on`, async () => {
      const { sign, state } = await setup(flavour, false);
      await sign();
      await until('unknown-log', async () => (await state()).status === 'unknown-log' || undefined);
      const r = await readyz();
      assert.equal(r.status, 200);
      assert.equal(r.body.witnessAlarms[0].kind, 'unknown-log');
      // Nothing meets the quorum: the log-signed checkpoint is served.
      const served = (await t!.app.inject({ url: '/v1/log/checkpoint' })).body;
      assert.equal(served, (await t!.app.inject({ url: '/v1/log/checkpoint/latest' })).body);
    });
  }
});

describe('what a witnessed log serves', () => {
  it('switches to witnessed checkpoints only forward: after log-signed size 3 was served, a witnessed 2 is not', async () => {
    const holder: { services?: Services } = {};
    const witness = await witnessFor(4, holder).start();
    witness.down = true;
    const t = await createTestApp({ witnesses: { policy: `${witness.policyLine('w')}\nquorum w\n` }, onServices: (s) => (holder.services = s) });
    let stateDir: string | undefined;
    try {
      const served = async () => {
        const body = (await t.app.inject({ url: '/v1/log/checkpoint' })).body;
        return { size: parseCheckpoint(parseSignedNote(body).text).size, cosigned: parseSignedNote(body).signatures.some((s) => s.name === witness.name) };
      };
      const token = await t.publisherToken('acme');
      const checkpoints: number[] = [];
      for (let i = 0; i < 3; i++) {
        assert.equal((await signRelease(t, token, `5.${i}`)).status, 201);
        checkpoints.push((await t.services.log.latestCheckpoint()).size);
      }
      assert.deepEqual(await served(), { size: checkpoints[2], cosigned: false });
      // A monitor run between every step below sees a log that only grew.
      const base = await listenTestApp(t);
      stateDir = mkdtempSync(path.join(tmpdir(), 'modelsign-monitor-'));
      const state = path.join(stateDir, 'state.json');
      const monitor = async () => {
        const res = await runCliAsync(['log', 'monitor', '--server', base, '--state', state], {});
        assert.equal(res.status, 0, res.stdout + res.stderr);
      };
      await monitor();
      // A witness cosigns the checkpoint of size 2 (an older one): not served, the size would go back.
      const cosign = async (size: number) => {
        const row = (await t.services.db.query<{ note: string; kid: string }>('SELECT "note", "kid" FROM "tlog_checkpoints" WHERE "size" = $1', [size]))[0]!;
        const checkpoint = parseCheckpoint(parseSignedNote(row.note).text);
        const line = cosignEd25519(4, checkpoint, Math.floor(Date.now() / 1000));
        await storeCosignature(t.services.db, { witness: 'w', keyId: witnessKeyId(witness), size, kid: row.kid, line, timestamp: Math.floor(Date.now() / 1000) }, new Date());
      };
      await cosign(checkpoints[1]!);
      assert.deepEqual(await served(), { size: checkpoints[2], cosigned: false });
      await monitor();
      await cosign(checkpoints[2]!);
      assert.deepEqual(await served(), { size: checkpoints[2], cosigned: true });
      await monitor();
      // Later log-signed checkpoints are at /latest; the served one stays the witnessed one.
      assert.equal((await signRelease(t, token, '5.9')).status, 201);
      assert.deepEqual(await served(), { size: checkpoints[2], cosigned: true });
      await monitor();
      assert.ok(parseCheckpoint(parseSignedNote((await t.app.inject({ url: '/v1/log/checkpoint/latest' })).body).text).size > checkpoints[2]!);
      // Proofs and tiles are bounded by the served checkpoint.
      const beyond = await t.app.inject({ url: `/v1/log/proofs/inclusion?index=0&treeSize=${checkpoints[2]! + 1}` });
      assert.equal(beyond.statusCode, 400);
    } finally {
      await t.close();
      await witness.close();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('refuses to start witnessed on an origin witnesses cannot tell apart (the 0.1 default)', async () => {
    const database = await createTestDatabase();
    try {
      await claimLogOrigin(database.db, 'modelsign.local/log');
      await assert.rejects(createTestApp({ database, witnesses: { policy: `witness w ${ED25519_WITNESSES[5]!.vkey} https://w.example\nquorum w\n` } }), (err: Error) => err instanceof LogOriginError && /cannot be witnessed: it is the 0\.1 default origin/.test(err.message));
    } finally {
      await database.drop();
    }
  });
});

describe('a witnessed log across a restart and two instances', () => {
  it('keeps the witness\'s size, serves what was cosigned after a restart, and sends one request at a time from two instances', async () => {
    const database = await createTestDatabase();
    const holder: { services?: Services } = {};
    const witness = await witnessFor(3, holder).start();
    witness.delayMs = 30;
    const policy = `${witness.policyLine('w')}\nquorum w\n`;
    const kek = testKek();
    try {
      const a = await createTestApp({ database, kek, witnesses: { policy }, onServices: (s) => (holder.services = s) });
      const token = await a.publisherToken('acme');
      for (let i = 0; i < 3; i++) assert.equal((await signRelease(a, token, `3.${i}`)).status, 201);
      const size = (await a.services.log.latestCheckpoint()).size;
      await until('cosigned', async () => ((await a.services.witnesses!.client.states())[0]!.cosignedSize === size) || undefined);
      const served = (await a.app.inject({ url: '/v1/log/checkpoint' })).body;
      await a.close();
      const b = await createTestApp({ database, kek, witnesses: { policy }, onServices: (s) => (holder.services = s) });
      const c = await createTestApp({ database, kek, witnesses: { policy } });
      try {
        assert.equal((await b.services.witnesses!.client.states())[0]!.oldSize, size);
        assert.equal((await b.app.inject({ url: '/v1/log/checkpoint' })).body, served);
        const before = witness.requests.length;
        const tokenB = await b.publisherToken('acme');
        for (let i = 0; i < 4; i++) assert.equal((await signRelease(i % 2 ? b : c, tokenB, `4.${i}`)).status, 201);
        const grown = (await b.services.log.latestCheckpoint()).size;
        await until('cosigned by the witness', async () => ((await b.services.witnesses!.client.states())[0]!.cosignedSize === grown) || undefined);
        // No request went out again from size 0: the state survived the restart.
        assert.ok(witness.requests.slice(before).every((r) => parseAddCheckpoint(r.body).oldSize >= size));
        assert.equal(witness.maxInFlight, 1);
        const committed = await committedNotes(b);
        for (const r of witness.requests) assert.ok(committed.has(parseAddCheckpoint(r.body).note));
      } finally {
        await c.close();
        await b.close();
      }
    } finally {
      await witness.close();
      await database.drop();
    }
  });
});

// A restore is a copy of the database from earlier: on PostgreSQL, CREATE DATABASE ... TEMPLATE of
// the database as it was (PGlite has no such copy here; the PostgreSQL pass runs it).
describe('a witnessed log restored from an older backup', { skip: TEST_DB === 'postgres' ? false : 'needs PostgreSQL (a database copy); the PostgreSQL pass of npm test runs it' }, () => {
  it('stops appending (503 log_behind_published, naming both sizes) before its first append when a mirror or a witness holds a larger checkpoint of ours', async () => {
    const holder: { services?: Services } = {};
    const witness = await witnessFor(6, holder).start();
    const policy = `${witness.policyLine('w')}\nquorum w\n`;
    const kek = testKek();
    const original = await createTestDatabase('postgres');
    let backup: { url: string; name: string; drop(): Promise<void> } | undefined;
    try {
      const a = await createTestApp({ database: original, kek, witnesses: { policy }, onServices: (s) => (holder.services = s) });
      const token = await a.publisherToken('acme');
      assert.equal((await signRelease(a, token, '6.0')).status, 201);
      const early = (await a.services.log.latestCheckpoint()).size;
      await a.services.stop();
      await a.app.close();
      // The backup: the database as it is now.
      await original.db.close();
      backup = await createPostgresDatabase();
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE ${backup.name}`);
      await admin.query(`CREATE DATABASE ${backup.name} TEMPLATE ${new URL(original.url!).pathname.slice(1)}`);
      await admin.end();
      // The log goes on, and the witness cosigns a larger tree.
      const reopened = { db: await openDatabase({ url: original.url!, poolSize: 5 }), url: original.url, drop: async () => undefined };
      const b = await createTestApp({ database: reopened, kek, witnesses: { policy }, onServices: (s) => (holder.services = s) });
      for (let i = 1; i <= 3; i++) assert.equal((await signRelease(b, token, `6.${i}`)).status, 201);
      const published = (await b.services.log.latestCheckpoint()).size;
      await until('cosigned', async () => ((await b.services.witnesses!.client.states())[0]!.cosignedSize === published) || undefined);
      // A mirror of the larger tree (`log mirror`), served as a plain folder.
      const mirrorDir = mkdtempSync(path.join(tmpdir(), 'modelsign-restore-mirror-'));
      const mirrored = await runCliAsync(['log', 'mirror', '--out', mirrorDir, '--server', await listenTestApp(b)], {});
      assert.equal(mirrored.status, 0, mirrored.stderr);
      const { server: mirrorServer, url: mirrorUrl } = await serveFolder(mirrorDir);
      await b.close();
      await reopened.db.close();
      // Restored, with only the mirror configured: the mirror's checkpoint stops appending.
      const viaMirrorDb = { db: await openDatabase({ url: backup.url, poolSize: 5 }), url: backup.url, drop: async () => undefined };
      const m = await createTestApp({ database: viaMirrorDb, kek, mirrorUrl });
      try {
        const refused = await signRelease(m, await m.publisherToken('acme'), '6.8');
        assert.equal(refused.status, 503);
        assert.equal(refused.body.code, 'log_behind_published');
        assert.match(JSON.stringify(refused.body), new RegExp(`size ${published} \\(the mirror at ${mirrorUrl.replace(/[.:/]/g, '\\$&')}\\) but its database holds a tree of ${early}`));
      } finally {
        await m.close();
        await viaMirrorDb.db.close();
        mirrorServer.close();
        rmSync(mirrorDir, { recursive: true, force: true });
      }
      // Restored, with the witness: the witness's monitoring endpoint stops appending.
      const restoredDb = { db: await openDatabase({ url: backup.url, poolSize: 5 }), url: backup.url, drop: async () => undefined };
      const c = await createTestApp({ database: restoredDb, kek, witnesses: { policy }, onServices: (s) => (holder.services = s) });
      try {
        const sizeBefore = (await c.services.db.query<{ size: string }>('SELECT "size"::text AS "size" FROM "tlog_state"'))[0]!.size;
        assert.equal(Number(sizeBefore), early);
        const refused = await signRelease(c, await c.publisherToken('acme'), '6.9');
        assert.equal(refused.status, 503);
        assert.equal(refused.body.code, 'log_behind_published');
        const ready = await c.app.inject({ url: '/readyz' });
        assert.equal(ready.statusCode, 200);
        assert.equal(ready.json().checks.log, 'behind-published');
        assert.equal(ready.json().signing, false);
        // Nothing was appended; reads go on.
        assert.equal((await c.services.db.query<{ size: string }>('SELECT "size"::text AS "size" FROM "tlog_state"'))[0]!.size, sizeBefore);
        assert.equal((await c.app.inject({ url: '/v1/log/checkpoint' })).statusCode, 200);
        assert.ok(c.logs.some((l) => l.includes(`size ${published}`) && l.includes('witness alarm')));
      } finally {
        await c.close();
        await restoredDb.db.close();
      }
    } finally {
      await witness.close();
      await original.drop();
      await backup?.drop();
    }
  });
});
