// Go's own tlog and note code (golang.org/x/mod, test/interop/go-witness/main.go and go-note) checks
// what a witnessed modelsign log does: every add-checkpoint request it sent a witness is signed by
// its log key and its consistency proof passes x/mod's tlog.CheckTree from the log's own
// checkpoint of the `old` size; every cosigned checkpoint it served verifies, log and witness
// lines alike, with sumdb/note. A request with one proof byte flipped is refused by Go.
// Runs once: the witness client's storage behaviour is tested on both databases by test/server/witnessing.test.ts.
// Tier: external (it drives Go's note code)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseAddCheckpoint } from '../../src/core/tlog/add-checkpoint.ts';
import { parseCheckpoint } from '../../src/core/tlog/checkpoint.ts';
import { parseSignedNote } from '../../src/core/tlog/signed-note.ts';
import { formatVkey, NOTE_TYPE } from '../../src/core/tlog/vkey.ts';
import type { Services } from '../../src/services/index.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { signRelease } from '../support/keys.ts';
import { TestWitness } from '../support/test-witness.ts';
import { buildGo, goSkip } from './support/go.ts';
import { runAsync } from '../support/process.ts';

const run = (bin: string, args: string[], input: string) => runAsync(bin, args, { input });

describe('Go checks what the log sends its witnesses and the cosigned checkpoints it serves', { skip: goSkip }, () => {
  const holder: { services?: Services } = {};
  let witness: TestWitness;
  let t: TestApp;
  let goWitness: { bin: string; remove(): void };
  let goNote: { bin: string; remove(): void };
  let logVkey: string;
  const served = new Set<string>();

  before(async () => {
    goWitness = buildGo('go-witness');
    goNote = buildGo('go-note');
    witness = await new TestWitness({ index: 9, logs: [{ origin: 'tlog.modelsign.test', key: () => holder.services?.keys.list().find((k) => k.purpose === 'log' && k.status === 'active') }] }).start();
    t = await createTestApp({ witnesses: { policy: `${witness.policyLine('w')}\nquorum w\n` }, onServices: (s) => (holder.services = s) });
    logVkey = formatVkey('tlog.modelsign.test', NOTE_TYPE.ed25519, t.services.keys.signer('log').publicKey);
    const token = await t.publisherToken('acme');
    // Releases in rounds, each waited for, so the witness sees a tree growing by several sizes.
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i <= round; i++) assert.equal((await signRelease(t, token, `${round}.${i}`)).status, 201);
      const size = (await t.services.log.latestCheckpoint()).size;
      for (let n = 0; ; n++) {
        const state = (await t.services.witnesses!.client.states())[0]!;
        if (state.cosignedSize === size) break;
        assert.ok(n < 500, 'the witness cosigns');
        await new Promise((r) => setTimeout(r, 20));
      }
      served.add((await t.app.inject({ url: '/v1/log/checkpoint' })).body);
    }
  });
  after(async () => {
    await t?.close();
    await witness?.close();
    goWitness?.remove();
    goNote?.remove();
  });

  /** The requests the witness accepted, each with the root of the log's own checkpoint of its `old` size. */
  async function records(): Promise<string[]> {
    const out: string[] = [];
    for (const r of witness.requests.filter((x) => x.status === 200)) {
      const { oldSize } = parseAddCheckpoint(r.body);
      const [row] = await t.services.db.query<{ note: string }>('SELECT "note" FROM "tlog_checkpoints" WHERE "size" = $1 LIMIT 1', [oldSize]);
      const root = oldSize === 0 ? Buffer.alloc(32).toString('base64') : Buffer.from(parseCheckpoint(parseSignedNote(row!.note).text).rootHash).toString('base64');
      out.push(`root ${root}\n${r.body}`);
    }
    return out;
  }

  it('every request: the note is signed by the log key and x/mod\'s CheckTree accepts the consistency proof', async (ctx) => {
    const recs = await records();
    const res = await run(goWitness.bin, [logVkey], recs.map((r) => `${r}\n--\n`).join(''));
    assert.equal(res.status, 0, res.stderr);
    const checked = Number(/checked (\d+)/.exec(res.stdout)![1]);
    assert.ok(checked >= 4, `${checked} proofs checked by Go`);
    ctx.diagnostic(`${checked} consistency proofs of ${recs.length} accepted requests checked by x/mod`);
  });

  it('a proof with one byte flipped is refused by Go', async () => {
    const recs = await records();
    const withProof = recs.find((r) => parseAddCheckpoint(r.slice(r.indexOf('\n') + 1)).proof.length > 0)!;
    const [head, body] = [withProof.slice(0, withProof.indexOf('\n')), withProof.slice(withProof.indexOf('\n') + 1)];
    const lines = body.split('\n');
    const hash = Buffer.from(lines[1]!, 'base64');
    hash[0]! ^= 1;
    lines[1] = hash.toString('base64');
    const res = await run(goWitness.bin, [logVkey], `${head}\n${lines.join('\n')}\n--\n`);
    assert.equal(res.status, 1);
    assert.match(res.stderr, /refuses the consistency proof/);
  });

  it('every cosigned checkpoint served verifies with sumdb/note, the log\'s line and the witness\'s', async () => {
    assert.ok(served.size >= 4);
    for (const note of served) {
      const res = await run(goNote.bin, ['open', logVkey, witness.vkey], note);
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`verified tlog\\.modelsign\\.test `));
      assert.match(res.stdout, new RegExp(`verified ${witness.name.replace(/\./g, '\\.')} `));
    }
  });
});
