// Two deployments that witness each other, on loopback: a.modelsign.test and b.modelsign.test
// (each service's public URL http://<name>.modelsign.test:PORT, whose host is its log's origin),
// each a modelsign service (its log) and a `modelsign witness` (witnessing the other's log), each
// log's policy requiring the other's witness. Both sign under load (60 releases each, 8 at a
// time); every release's tlog-proof verifies offline with the user's policy (the portable
// verifier for all, and `modelsign verify --witness-policy` on a folder of each log signed by
// `modelsign sign`, which waits for the proof and writes it beside the bundle).
// Stopping B's witness leaves A signing, its new releases' proofs waiting (404 proof_not_ready);
// when the witness returns (same database) A's witness client catches up and the proofs appear.
// Runs once: the witness's storage runs on both databases in test/server/witness-mode.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { trustedKeyOf } from '../../src/core/keys/key.ts';
import { keySet, verifyBundle } from '../../src/core/verifier.ts';
import { parseWitnessPolicy } from '../../src/core/tlog/witness-policy.ts';
import { bearer, createTestApp, testKek, type TestApp } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { freePort, runCliAsync } from '../support/process.ts';
import { startModelsignWitness, type ModelsignWitness } from '../support/witness-mode.ts';
import { until } from '../support/until.ts';

interface Deployment {
  name: 'a' | 'b';
  origin: string;
  port: number;
  witnessPort: number;
  database: TestDatabase;
  witnessDatabase: TestDatabase;
  kek: ReturnType<typeof testKek>;
  logVkey: string;
  app?: TestApp;
  witness?: ModelsignWitness;
  /** The policy a user of this log verifies with: the other deployment's witness. */
  userPolicy?: string;
  token?: string;
  signed: { id: string; bundle: unknown }[];
}

describe('two deployments that witness each other', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-deployments-'));
  const deployments: Deployment[] = [];
  const other = (d: Deployment) => deployments.find((x) => x !== d)!;
  const startApp = async (d: Deployment, policy?: string) => {
    // Each with its own dotted public URL, whose host is its log's origin.
    d.app = await createTestApp({ database: d.database, kek: d.kek, publicUrl: `http://${d.origin}:${d.port}`, ...(policy ? { witnesses: { policy, paceMs: 100 } } : {}) });
    await d.app.app.listen({ host: '127.0.0.1', port: d.port });
  };
  const startWitness = async (d: Deployment) => {
    const watched = other(d);
    d.witness = await startModelsignWitness({ name: `witness.${d.name}.modelsign.test`, logs: [{ vkey: watched.logVkey, url: `http://127.0.0.1:${watched.port}/v1/log` }], database: d.witnessDatabase, kek: d.kek, port: d.witnessPort });
  };

  before(async () => {
    for (const name of ['a', 'b'] as const) {
      deployments.push({ name, origin: `${name}.modelsign.test`, port: await freePort(), witnessPort: await freePort(), database: await createTestDatabase(), witnessDatabase: await createTestDatabase(), kek: testKek(), logVkey: '', signed: [] });
    }
    // Each log's key exists once its service has started; each witness pins the other's.
    for (const d of deployments) {
      await startApp(d);
      d.logVkey = (await d.app!.app.inject({ url: '/v1/log/vkey' })).body.trim();
    }
    for (const d of deployments) await startWitness(d);
    for (const d of deployments) await d.app!.close();
    for (const d of deployments) {
      const w = other(d).witness!;
      const policy = `log ${d.logVkey}\nwitness w ${w.parts.witness.vkey} ${w.url}\nquorum w\n`;
      d.userPolicy = `witness w ${w.parts.witness.vkey}\nquorum w\n`;
      await startApp(d, policy);
      d.token = await d.app!.publisherToken('acme');
    }
  });
  after(async () => {
    for (const d of deployments) {
      await d.app?.close();
      await d.witness?.close();
      await d.database.drop();
      await d.witnessDatabase.drop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const signMany = async (d: Deployment, prefix: string, count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          const i = next++;
          const res = await d.app!.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(d.token!), payload: { model: 'acme/m', version: `${prefix}.${i}`, files: [{ path: 'w.bin', sha256: createHash('sha256').update(`${d.name} ${prefix} ${i}`).digest('hex'), size: 1 }] } });
          assert.equal(res.statusCode, 201, res.body);
          d.signed.push(res.json() as { id: string; bundle: unknown });
        }
      }),
    );
  };
  const proofOf = async (d: Deployment, id: string) => {
    const res = await d.app!.app.inject({ url: `/v1/signatures/${id}/tlog-proof` });
    return res.statusCode === 200 ? res.body : undefined;
  };

  it('both sign under load, and every release\'s proof verifies offline with the user\'s policy', { timeout: 120_000 }, async () => {
    await Promise.all(deployments.map((d) => signMany(d, '1', 60)));
    for (const d of deployments) {
      const keys = keySet(d.app!.services.keys.list().map(trustedKeyOf));
      const policy = parseWitnessPolicy(d.userPolicy!);
      for (const s of d.signed) {
        const proof = await until(`the proof of a release of ${d.origin}`, () => proofOf(d, s.id), 30_000);
        const verdict = verifyBundle(s.bundle, { ...keys, witnesses: { policy, proof, now: Date.now() } });
        assert.deepEqual(verdict.reasons, [], `${d.origin} ${s.id}`);
      }
      assert.match((await d.app!.app.inject({ url: '/v1/log/checkpoint' })).body, new RegExp(`^${d.origin.replace(/\./g, '\\.')}\\n[0-9]+\\n[^\\n]+\\n\\n(.*\\n)*\\u2014 witness\\.${other(d).name}\\.modelsign\\.test `));
    }
  });

  it('a real folder of each log verifies with `modelsign verify --witness-policy` and its .tlog-proof', { timeout: 120_000 }, async () => {
    for (const d of deployments) {
      const folder = path.join(dir, d.name);
      mkdirSync(folder);
      writeFileSync(path.join(folder, 'w.bin'), `weights of ${d.origin}`);
      // The real client: it writes model.sig and, once a witnessed checkpoint covers the entry, model.sig.tlog-proof.
      const signed = await runCliAsync(['sign', folder, '--model', 'acme/real', '--version', '1.0', '--proof-wait', '30s'], { MODELSIGN_SERVER: `http://127.0.0.1:${d.port}`, MODELSIGN_TOKEN: d.token! });
      assert.equal(signed.status, 0, signed.stdout + signed.stderr);
      assert.ok(existsSync(path.join(folder, 'model.sig.tlog-proof')), signed.stdout + signed.stderr);
      writeFileSync(path.join(dir, `${d.name}.keys.json`), (await d.app!.app.inject({ url: '/v1/keys' })).body);
      writeFileSync(path.join(dir, `${d.name}.policy`), d.userPolicy!);
      const verified = await runCliAsync(['verify', folder, '--keys', path.join(dir, `${d.name}.keys.json`), '--witness-policy', path.join(dir, `${d.name}.policy`)]);
      assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    }
  });

  it('with one witness stopped, the other log signs on with its proofs waiting; they catch up when it returns', { timeout: 120_000 }, async () => {
    const [a, b] = deployments as [Deployment, Deployment];
    // b's witness witnesses a's log.
    await b.witness!.close();
    b.witness = undefined;
    const before = a.signed.length;
    await signMany(a, '2', 10);
    const waiting = a.signed.slice(before);
    await new Promise((r) => setTimeout(r, 500));
    for (const s of waiting) assert.equal((await a.app!.app.inject({ url: `/v1/signatures/${s.id}/tlog-proof` })).json().code, 'proof_not_ready');
    // b's log is witnessed by a's witness, which still runs.
    const bBefore = b.signed.length;
    await signMany(b, '2', 5);
    for (const s of b.signed.slice(bBefore)) assert.ok(await until('b\'s proofs', () => proofOf(b, s.id)));
    // Back, on the same database: a's client catches up.
    await startWitness(b);
    const keys = keySet(a.app!.services.keys.list().map(trustedKeyOf));
    for (const s of waiting) {
      const proof = await until('a\'s proofs after the witness returned', () => proofOf(a, s.id), 30_000);
      assert.deepEqual(verifyBundle(s.bundle, { ...keys, witnesses: { policy: parseWitnessPolicy(a.userPolicy!), proof, now: Date.now() } }).reasons, []);
    }
  });
});
