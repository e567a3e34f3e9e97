// The witness cases of the committed vectors through the CLI's verify: each case's bundle as
// model.sig in a folder with the release file, its proof as model.sig.tlog-proof beside it (the
// default name), the vectors' JWKS as --keys and the policy as --witness-policy. Every case runs
// through the CLI's verifier with the case's clock; a few run as the real command under faketime
// at that time (the cases are dated, and a cosignature from the verifier's future is refused).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { trustedKeysFromJwks } from '../../src/core/keys/jwks.ts';
import { keySet } from '../../src/core/keys/key-set.ts';
import { parseWitnessPolicy } from '../../src/core/tlog/witness-policy.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { verifyModel } from '../../src/cli/verify-model.ts';
import { hashFiles } from '../../src/cli/hash-files.ts';
import { BIN, runCliAsync } from '../support/process.ts';
import { caseJwks, witnessVectors } from '../support/witness-vectors.ts';
import type { WitnessCase } from '../support/witness-cases.ts';

const vectors = witnessVectors();
const hasFaketime = spawnSync('faketime', ['--version'], { stdio: 'ignore' }).status === 0;

describe('witness cases in the CLI (modelsign verify --witness-policy)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'modelsign-witness-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  let n = 0;
  const lay = async (c: WitnessCase, proofName: string | null = 'model.sig.tlog-proof') => {
    const folder = path.join(dir, `case-${n++}`);
    await mkdir(folder);
    for (const [name, content] of Object.entries(vectors.files)) await writeFile(path.join(folder, name), content);
    await writeFile(path.join(folder, 'model.sig'), JSON.stringify(c.bundle));
    if (c.proof !== null && proofName) await writeFile(path.join(folder, proofName), c.proof);
    const keys = path.join(folder, '..', `keys-${n}.json`);
    await writeFile(keys, JSON.stringify(caseJwks(vectors, c)));
    const policy = path.join(folder, '..', `policy-${n}.txt`);
    await writeFile(policy, c.policy);
    return { folder, keys, policy };
  };

  const trustOf = (c: WitnessCase) => {
    const keys = trustedKeysFromJwks(caseJwks(vectors, c))!;
    return { ...keySet(keys), hasLogKey: true, source: 'the vectors\' keys' };
  };

  for (const c of vectors.cases) {
    it(`${c.name}: ${c.expect.valid ? 'verified' : c.expect.reasons.join(', ')}`, async () => {
      const { folder } = await lay(c);
      const report = await verifyModel(folder, { trust: trustOf(c), allowSymlinks: false, witness: { policy: parseWitnessPolicy(c.policy) } }, { hash: (files) => hashFiles(files, undefined, { check: true }), now: () => c.now * 1000 });
      assert.deepEqual(report.reasons.map((r) => r.code), c.expect.reasons, JSON.stringify(report.reasons));
      assert.equal(report.outcome, c.expect.valid ? 'verified' : c.expect.reasons.some((r) => r === 'witness_signature_invalid' || r === 'witness_proof_invalid') ? 'tampered' : 'untrusted');
      assert.deepEqual(report.extra, [], 'the proof file is never an extra file');
    });
  }

  it('exits 2 for a malformed policy and for --proof without a policy, 4 for a missing --proof file', async () => {
    const c = vectors.cases.find((x) => x.name === 'proof-meets-quorum')!;
    const { folder, keys, policy } = await lay(c);
    await writeFile(policy + '.bad', 'quorum nobody\n');
    const bad = await runCliAsync(['verify', folder, '--keys', keys, '--witness-policy', policy + '.bad']);
    assert.equal(bad.status, EXIT.usage, bad.stderr);
    assert.match(bad.stderr, /line 1: the quorum "nobody" is not defined/);
    const lone = await runCliAsync(['verify', folder, '--keys', keys, '--proof', path.join(folder, 'model.sig.tlog-proof')]);
    assert.equal(lone.status, EXIT.usage, lone.stderr);
    const missing = await runCliAsync(['verify', folder, '--keys', keys, '--witness-policy', policy, '--proof', path.join(folder, 'nope')]);
    assert.equal(missing.status, EXIT.io, missing.stderr);
  });

  it('runs as the real command at the cases\' time: an old bundle fails without its proof and verifies with it, given by name or --proof', { skip: hasFaketime ? false : 'faketime is not installed (.ci/run installs it): the vectors are dated 2027' }, async () => {
    const c = vectors.cases.find((x) => x.name === 'proof-meets-quorum')!;
    const at = new Date(c.now * 1000).toISOString().replace('T', ' ').slice(0, 19);
    const cli = (args: string[]) => spawnSync('faketime', [at, process.execPath, BIN, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    const withProof = await lay(c);
    const ok = cli(['verify', withProof.folder, '--keys', withProof.keys, '--witness-policy', withProof.policy]);
    assert.equal(ok.status, EXIT.ok, ok.stderr + ok.stdout);
    const without = await lay(c, null);
    const refused = cli(['verify', without.folder, '--keys', without.keys, '--witness-policy', without.policy, '--json']);
    assert.equal(refused.status, EXIT.untrusted, refused.stderr);
    assert.match(JSON.parse(refused.stdout).reasons[0].message, /give its \.tlog-proof file/);
    const elsewhere = await lay(c, 'somewhere.tlog-proof');
    const given = cli(['verify', elsewhere.folder, '--keys', elsewhere.keys, '--witness-policy', elsewhere.policy, '--proof', path.join(elsewhere.folder, 'somewhere.tlog-proof'), '--json']);
    assert.equal(given.status, EXIT.tampered, 'a proof file under another name in the folder is an extra file');
    assert.deepEqual(JSON.parse(given.stdout).extra, ['somewhere.tlog-proof']);
  });
});
