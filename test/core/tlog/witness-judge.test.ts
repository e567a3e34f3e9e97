// The witness's decisions (core/tlog/witness-judge.ts), row by row of C2SP tlog-witness's table,
// without HTTP or a database: what `modelsign witness` answers is these, around a read and a
// compare-and-swap (the same table over HTTP, against the test witness too, is
// test/server/witness-conformance.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RFC6962 } from '../../../src/core/tlog/hash.ts';
import { authenticateAddCheckpoint, isRefusal, judgeAddCheckpoint, type AuthenticRequest } from '../../../src/core/tlog/witness-judge.ts';
import { WitnessTestLog } from '../../support/witness-log.ts';

const log = new WitnessTestLog('log.example.org/judge', 0x61);
const stranger = new WitnessTestLog('log.example.org/judge', 0x62);
const keyOf = (origin: string) => (origin === log.origin ? log.key : undefined);

async function authentic(body: Promise<string>): Promise<AuthenticRequest> {
  const r = authenticateAddCheckpoint(await body, keyOf);
  assert.ok(!isRefusal(r), JSON.stringify(r));
  return r;
}

const status = (r: ReturnType<typeof judgeAddCheckpoint>) => (r === undefined ? 200 : r.status);

describe('the witness\'s decisions', () => {
  it('authenticates: 400 for what is not a request, 404 for an unknown origin, 403 without the pinned key\'s signature', async () => {
    for (const body of ['', 'old 1\n', 'new 1\n\n', `old 0\n${'A'.repeat(43)}=\n\nnot a note`]) {
      const r = authenticateAddCheckpoint(body, keyOf);
      assert.ok(isRefusal(r) && r.status === 400, body);
    }
    const other = new WitnessTestLog('other.example.org/log', 0x63);
    const unknown = authenticateAddCheckpoint(await other.request(0, 3), keyOf);
    assert.ok(isRefusal(unknown) && unknown.status === 404);
    const forged = authenticateAddCheckpoint(await log.request(0, 3, { note: await stranger.note(3) }), keyOf);
    assert.ok(isRefusal(forged) && forged.status === 403);
  });

  it('judges against the state held', async () => {
    const held = { size: 10, rootHash: log.tree.root(10) };
    // First contact: only from 0, and without proof lines.
    assert.equal(status(judgeAddCheckpoint(await authentic(log.request(0, 10)), undefined, RFC6962)), 200);
    const stale = judgeAddCheckpoint(await authentic(log.request(4, 10)), undefined, RFC6962);
    assert.deepEqual(stale && stale.status === 409 ? stale.size : undefined, 0);
    assert.equal(status(judgeAddCheckpoint(await authentic(log.request(0, 10, { proof: log.tree.consistency(3, 10) })), undefined, RFC6962)), 422);
    // Old beyond the checkpoint; old other than held.
    assert.equal(status(judgeAddCheckpoint(await authentic(log.request(12, 10)), held, RFC6962)), 400);
    const moved = judgeAddCheckpoint(await authentic(log.request(8, 20)), held, RFC6962);
    assert.ok(moved?.status === 409 && moved.size === 10);
    // Forward with the right proof, and with a wrong one.
    assert.equal(status(judgeAddCheckpoint(await authentic(log.request(10, 20)), held, RFC6962)), 200);
    assert.equal(status(judgeAddCheckpoint(await authentic(log.request(10, 20, { proof: log.tree.consistency(11, 20) })), held, RFC6962)), 422);
    // The same size: the same root again, another root, or proof lines.
    assert.equal(status(judgeAddCheckpoint(await authentic(log.request(10, 10)), held, RFC6962)), 200);
    assert.equal(status(judgeAddCheckpoint(await authentic(log.request(10, 10, { note: await log.note(10, { ...log.checkpoint(10), rootHash: new Uint8Array(32) }) })), held, RFC6962)), 422);
    assert.equal(status(judgeAddCheckpoint(await authentic(log.request(10, 10, { proof: [new Uint8Array(32)] })), held, RFC6962)), 422);
    // The empty tree: only with SHA-256 of nothing as its root.
    assert.equal(status(judgeAddCheckpoint(await authentic(log.request(0, 0)), undefined, RFC6962)), 200);
    assert.equal(status(judgeAddCheckpoint(await authentic(log.request(0, 0, { note: await log.note(0, { ...log.checkpoint(0), rootHash: new Uint8Array(32).fill(1) }) })), undefined, RFC6962)), 422);
  });
});
