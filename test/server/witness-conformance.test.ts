// One suite, two witnesses: the spec-exact test witness (test/support/test-witness.ts) and
// `modelsign witness` answer the same add-checkpoint requests with the same status codes, in the
// order C2SP tlog-witness lists them (core/tlog/witness-judge.ts): 400 for a body that is not a
// request (64 proof lines included) or an old size beyond the checkpoint, 404 for an unknown
// origin, 403 for a checkpoint signed only by a key the witness does not hold for the log, 409
// of type text/x.tlog.size with the size held for a stale old size, 422 for a bad proof, a proof
// from 0 or between equal sizes, the same size with another root, or a size-0 tree whose root is
// not SHA-256 of nothing; 200 with a cosignature line that verifies with the witness's vkey, and
// the monitoring endpoint serving the newest cosigned note. A refused request never changes what
// the witness holds. An oversized body (2 MB) is refused by both (4xx); modelsign's answers 413.
// In the HSM pass, modelsign's witness key is made and signs in a SoftHSM2 token.
// Key backends: kek, pkcs11
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseCosignatureLines, TLOG_SIZE_MEDIA_TYPE } from '../../src/core/tlog/add-checkpoint.ts';
import { formatCheckpoint } from '../../src/core/tlog/checkpoint.ts';
import { verifyCosignature, witnessKeyOf } from '../../src/core/tlog/cosignature.ts';
import { parseVkey } from '../../src/core/tlog/vkey.ts';
import { TEST_KEY_BACKEND } from '../support/app.ts';
import { TestWitness } from '../support/test-witness.ts';
import { addCheckpoint, startModelsignWitness } from '../support/witness-mode.ts';
import { WitnessTestLog } from '../support/witness-log.ts';

interface Implementation {
  name: string;
  start(logs: WitnessTestLog[]): Promise<{ url: string; vkey: string; close(): Promise<void> }>;
}

const IMPLEMENTATIONS: Implementation[] = [
  {
    name: 'the spec-exact test witness',
    async start(logs) {
      const w = await new TestWitness({ index: 3, flavour: 'spec', logs: logs.map((l) => ({ origin: l.origin, key: l.key })) }).start();
      return { url: w.url, vkey: w.vkey, close: () => w.close() };
    },
  },
  {
    name: 'modelsign witness',
    async start(logs) {
      const w = await startModelsignWitness({ name: 'witness.modelsign.test', logs: logs.map((l) => ({ vkey: l.vkey })) });
      // Its key lives where the pass says: wrapped in its row, or in the token.
      const [key] = await w.database.db.query<{ inToken: boolean }>(`SELECT "pkcs11_id" IS NOT NULL AS "inToken" FROM "keys" WHERE "purpose" = 'witness'`);
      assert.equal(key?.inToken, TEST_KEY_BACKEND === 'pkcs11');
      return { url: w.url, vkey: w.parts.witness.vkey, close: () => w.close() };
    },
  },
];

for (const impl of IMPLEMENTATIONS) {
  describe(`add-checkpoint, as C2SP tlog-witness says: ${impl.name}`, () => {
    const log = new WitnessTestLog('log.example.org/a', 0x21);
    const other = new WitnessTestLog('log.example.org/b', 0x22);
    const stranger = new WitnessTestLog('elsewhere.example.org/log', 0x23);
    let w: Awaited<ReturnType<Implementation['start']>>;
    before(async () => {
      w = await impl.start([log, other]);
    });
    after(async () => w?.close());

    const post = (body: string | Uint8Array) => addCheckpoint(w.url, body);
    /** The answer is one cosignature line by the witness on `size` of `on`, valid. */
    const assertCosigned = (answer: { status: number; text: string }, on: WitnessTestLog, size: number) => {
      assert.equal(answer.status, 200, answer.text);
      const [line] = parseCosignatureLines(answer.text);
      const key = witnessKeyOf(parseVkey(w.vkey));
      assert.equal(line!.signature.keyId, key.keyId);
      const checkpoint = on.checkpoint(size);
      verifyCosignature(key, line!.signature.signature, checkpoint, formatCheckpoint(checkpoint), 2_000_000_000);
    };
    const held = async (on: WitnessTestLog) => {
      const res = await fetch(`${w.url}/${createHash('sha256').update(on.origin).digest('hex')}/checkpoint`);
      return res.status === 200 ? Number((await res.text()).split('\n')[1]) : undefined;
    };

    it('400: a body that is not a request, 64 proof lines, an old size beyond the checkpoint', async () => {
      for (const body of ['', 'old 0\n', 'old x\n\nlog.example.org/a\n1\n', `old 0\n\n${'no note'}`]) assert.equal((await post(body)).status, 400, JSON.stringify(body));
      const proof = Array.from({ length: 64 }, () => new Uint8Array(32).fill(1));
      assert.equal((await post(await log.request(1, 10, { proof }))).status, 400);
      assert.equal((await post(await log.request(11, 10))).status, 400);
      assert.equal(await held(log), undefined, 'nothing held after refusals');
    });

    it('404 for an origin it does not witness; 403 for a checkpoint only another key signed', async () => {
      assert.equal((await post(await stranger.request(0, 5))).status, 404);
      const forged = await stranger.note(5, log.checkpoint(5));
      assert.equal((await post(await log.request(0, 5, { note: forged }))).status, 403);
    });

    it('200 from 0 (first contact), then 409 with the size held for a stale old size', async () => {
      assertCosigned(await post(await log.request(0, 10)), log, 10);
      assert.equal(await held(log), 10);
      const stale = await post(await log.request(5, 20));
      assert.equal(stale.status, 409);
      assert.equal(stale.text, '10\n');
      assert.match(stale.contentType ?? '', new RegExp(`^${TLOG_SIZE_MEDIA_TYPE.replace('.', '\\.')}`));
    });

    it('200 with a consistency proof; 422 for a wrong proof, and nothing changes', async () => {
      assertCosigned(await post(await log.request(10, 20)), log, 20);
      assert.equal((await post(await log.request(20, 30, { proof: log.tree.consistency(21, 30) }))).status, 422);
      assert.equal((await post(await log.request(20, 30, { proof: [] }))).status, 422);
      assert.equal(await held(log), 20);
    });

    it('the same size: 200 again with the same root, 422 with another root or with proof lines', async () => {
      assertCosigned(await post(await log.request(20, 20)), log, 20);
      const forkNote = await log.note(20, { ...log.checkpoint(20), rootHash: new Uint8Array(32).fill(9) });
      assert.equal((await post(await log.request(20, 20, { note: forkNote }))).status, 422);
      assert.equal((await post(await log.request(20, 20, { proof: [new Uint8Array(32)] }))).status, 422);
      assert.equal(await held(log), 20);
    });

    it('422 for a proof from size 0, and for a size-0 tree whose root is not SHA-256 of nothing', async () => {
      assert.equal((await post(await other.request(0, 8, { proof: other.tree.consistency(1, 8) }))).status, 422);
      const badEmpty = await other.note(0, { ...other.checkpoint(0), rootHash: new Uint8Array(32).fill(4) });
      assert.equal((await post(await other.request(0, 0, { note: badEmpty }))).status, 422);
      assert.equal(await held(other), undefined);
      assertCosigned(await post(await other.request(0, 8)), other, 8);
    });

    it('serves the newest cosigned note on the monitoring endpoint, with its cosignature', async () => {
      const res = await fetch(`${w.url}/${createHash('sha256').update(log.origin).digest('hex')}/checkpoint`);
      assert.equal(res.status, 200);
      const note = await res.text();
      assert.equal(note.split('\n')[1], '20');
      const key = witnessKeyOf(parseVkey(w.vkey));
      assert.ok(note.includes(`\u2014 ${key.name} `), 'the witness line is on the note');
      assert.equal((await fetch(`${w.url}/${'0'.repeat(64)}/checkpoint`)).status, 404);
    });

    it('refuses an oversized body (2 MB) without reading it as a request', async () => {
      const body = `old 0\n\n${'x'.repeat(2 * 1024 * 1024)}`;
      const answer = await post(body);
      assert.ok(answer.status >= 400 && answer.status < 500, String(answer.status));
      if (impl.name === 'modelsign witness') assert.equal(answer.status, 413);
    });
  });
}
