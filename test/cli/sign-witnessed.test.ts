// `modelsign sign` against a witnessed service: it waits for the release's witness proof and
// writes it beside the bundle, and `verify --witness-policy` then passes offline with the bundle
// and the proof, in the Node CLI and in the Python client (modelsign-verify); with the witness
// down it says plainly that there is no proof yet, and signing still succeeds.
// Runs once: its subject is the client; the service's storage is tested in both passes elsewhere.
// Tier: external (it drives the Python client beside the Node CLI)
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Services } from '../../src/services/index.ts';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { runAsync, runCliAsync, type Ran } from '../support/process.ts';
import { pythonWithCryptography } from '../support/python.ts';
import { TestWitness } from '../support/test-witness.ts';
import { ED25519_WITNESSES } from '../support/witness-cases.ts';

const SRC = fileURLToPath(new URL('../../python/src', import.meta.url));
const python = process.env.MODELSIGN_PY_VERIFY ? undefined : pythonWithCryptography();

function runPython(args: string[]): Promise<Ran> {
  const command = process.env.MODELSIGN_PY_VERIFY ?? python!;
  const argv = process.env.MODELSIGN_PY_VERIFY ? args : ['-m', 'modelsign_verify', ...args];
  return runAsync(command, argv, { env: { ...process.env, PYTHONPATH: SRC } });
}

describe('sign and verify against a witnessed service', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-witnessed-'));
  const holder: { services?: Services } = {};
  let witness: TestWitness;
  let t: TestApp;
  let env: Record<string, string>;
  const policyFile = path.join(dir, 'witnesses.policy');
  const keys = path.join(dir, 'keys.json');

  before(async () => {
    witness = await new TestWitness({ index: 8, logs: [{ origin: 'tlog.modelsign.test', key: () => holder.services?.keys.list().find((k) => k.purpose === 'log' && k.status === 'active') }] }).start();
    const policy = `${witness.policyLine('w')}\nquorum w\n`;
    t = await createTestApp({ witnesses: { policy }, onServices: (s) => (holder.services = s) });
    env = { MODELSIGN_SERVER: await listenTestApp(t), MODELSIGN_TOKEN: await t.publisherToken('acme') };
    // The user's own policy: the same witness, without the URL a verifier does not need.
    writeFileSync(policyFile, `witness w ${witness.vkey}\nquorum w\n`);
    writeFileSync(keys, JSON.stringify((await t.app.inject({ url: '/v1/keys' })).json()));
  });
  after(async () => {
    await t?.close();
    await witness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes model.sig.tlog-proof beside model.sig, and the release verifies offline with the policy (Node CLI and Python)', async () => {
    const model = path.join(dir, 'tiny');
    mkdirSync(model);
    writeFileSync(path.join(model, 'weights.bin'), 'w'.repeat(1000));
    const signed = await runCliAsync(['sign', model, '--model', 'acme/tiny', '--version', '1.0', '--json'], env);
    assert.equal(signed.status, 0, signed.stderr);
    const result = JSON.parse(signed.stdout);
    assert.equal(result.proof, path.join(model, 'model.sig.tlog-proof'));
    assert.ok(readFileSync(result.proof, 'utf8').startsWith('c2sp.org/tlog-proof@v1\n'));
    const node = await runCliAsync(['verify', model, '--keys', keys, '--witness-policy', policyFile], {});
    assert.equal(node.status, 0, node.stdout + node.stderr);
    if (python || process.env.MODELSIGN_PY_VERIFY) {
      const py = await runPython(['verify', model, '--keys', keys, '--witness-policy', policyFile]);
      assert.equal(py.status, 0, py.stdout + py.stderr);
    }
    // Without the proof, the bundle's own checkpoint (never cosigned) does not meet the quorum,
    // and the message names the command that gets the proof.
    rmSync(result.proof);
    const without = await runCliAsync(['verify', model, '--keys', keys, '--witness-policy', policyFile], {});
    assert.equal(without.status, 3, without.stdout + without.stderr);
    assert.match(without.stderr, /witness_quorum_not_met.*modelsign proof fetch BUNDLE/);
    // proof fetch: beside model.sig (this release's signed ignore paths name the proof).
    const fetched = await runCliAsync(['proof', 'fetch', path.join(model, 'model.sig')], env);
    assert.equal(fetched.status, 0, fetched.stderr);
    assert.ok(existsSync(result.proof));
    assert.equal((await runCliAsync(['verify', model, '--keys', keys, '--witness-policy', policyFile], {})).status, 0);
  });

  it('proof fetch puts the proof of an older folder release (its ignore paths lack the name) outside the folder, and says which --proof to give', async () => {
    // A release signed with ignore paths of before 0.2: only the bundle's own name.
    const model = path.join(dir, 'old');
    mkdirSync(model);
    writeFileSync(path.join(model, 'weights.bin'), 'o'.repeat(100));
    const { createHash } = await import('node:crypto');
    const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: { authorization: `Bearer ${env.MODELSIGN_TOKEN}` }, payload: { model: 'acme/old', version: '1.0', files: [{ path: 'weights.bin', sha256: createHash('sha256').update('o'.repeat(100)).digest('hex'), size: 100 }], ignorePaths: ['model.sig'] } });
    assert.equal(res.statusCode, 201, res.body);
    writeFileSync(path.join(model, 'model.sig'), JSON.stringify(res.json().bundle));
    let fetched;
    for (let i = 0; i < 200; i++) {
      fetched = await runCliAsync(['proof', 'fetch', path.join(model, 'model.sig')], env);
      if (fetched.status === 0) break;
      assert.equal(fetched.status, 7, fetched.stderr);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(fetched!.status, 0, fetched!.stderr);
    const outside = `${model}.tlog-proof`;
    assert.ok(existsSync(outside));
    assert.ok(!existsSync(path.join(model, 'model.sig.tlog-proof')));
    assert.match(fetched!.stderr, new RegExp(`verify with --proof ${outside.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.equal((await runCliAsync(['verify', model, '--keys', keys, '--witness-policy', policyFile, '--proof', outside], {})).status, 0);
  });

  it('trust export --witness-policy-out writes the operator\'s policy and says how it differs from the one pinned', async () => {
    const out = path.join(dir, 'operator.policy');
    const same = await runCliAsync(['trust', 'export', '--out', path.join(dir, 'root.json'), '--witness-policy-out', out, '--witness-policy', policyFile], env);
    assert.equal(same.status, 0, same.stderr);
    assert.equal(readFileSync(out, 'utf8'), `${witness.policyLine('w')}\nquorum w\n`);
    assert.match(same.stderr, /the operator's witnesses and quorum are those of/);
    const other = path.join(dir, 'other.policy');
    writeFileSync(other, `witness w ${witness.vkey}\nwitness x ${ED25519_WITNESSES[15]!.vkey}\ngroup g all w x\nquorum g\n`);
    const differs = await runCliAsync(['trust', 'export', '--out', path.join(dir, 'root.json'), '--witness-policy-out', out, '--witness-policy', other], env);
    assert.equal(differs.status, 0, differs.stderr);
    assert.match(differs.stderr, /warning: your policy has witness x/);
    assert.match(differs.stderr, /warning: the groups or the quorum differ/);
  });

  it('says plainly when no proof came in time, and signing still succeeds', async () => {
    witness.down = true;
    try {
      const file = path.join(dir, 'ckpt.safetensors');
      writeFileSync(file, 'x'.repeat(100));
      const signed = await runCliAsync(['sign', file, '--model', 'acme/ckpt', '--version', '1.0', '--proof-wait', '1s'], env);
      assert.equal(signed.status, 0, signed.stderr);
      assert.match(signed.stderr, /no witness proof yet .* Fetch it later: modelsign proof fetch .*ckpt\.safetensors\.sig \(or GET .*\/v1\/signatures\/.+\/tlog-proof\)/);
      assert.equal(existsSync(`${file}.sig.tlog-proof`), false);
    } finally {
      witness.down = false;
    }
  });
});
