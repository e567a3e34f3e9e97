// The witness cases on the committed vectors, in the portable verifier: every case's verdict, the
// vectors remade byte for byte from their generator (so the file holds what the code says), and
// the ML-DSA-44 cosignatures pyca made once, checked on every run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { toBase64 } from '../../../src/core/bytes.ts';
import { parseCheckpoint } from '../../../src/core/tlog/checkpoint.ts';
import { parseSignedNote } from '../../../src/core/tlog/signed-note.ts';
import { evaluateQuorum } from '../../../src/core/tlog/witness-policy.ts';
import { keySet, parseWitnessPolicy, verifyBundle } from '../../../src/core/verifier.ts';
import { vectorCases } from '../../vectors/witness/vector-cases.ts';
import { caseKeys, codesOf, witnessVectors } from '../../support/witness-vectors.ts';

const vectors = witnessVectors();

describe('witness vectors (test/vectors/witness)', () => {
  it('are what their generator makes from the fixed world and the pyca ML-DSA-44 cosignatures', async () => {
    assert.deepEqual(JSON.parse(JSON.stringify(await vectorCases())), vectors);
  });

  it('hold every kind of case the verifiers must agree on', () => {
    assert.ok(vectors.cases.length >= 25);
    const codes = new Set(vectors.cases.flatMap((c) => c.expect.reasons));
    for (const code of ['witness_quorum_not_met', 'witness_signature_invalid', 'witness_proof_invalid', 'witness_policy_invalid', 'key_revoked']) assert.ok(codes.has(code), code);
    const lines = vectors.cases.find((c) => c.name === 'thirty-four-lines')!.proof!.split('\n').filter((l) => l.startsWith('\u2014 '));
    assert.equal(lines.length, 34);
    assert.equal(lines.filter((l) => l.length > 3000).length, 16, 'sixteen ML-DSA-44 lines');
  });

  for (const c of vectors.cases) {
    it(`portable verifier: ${c.name}`, () => {
      const verdict = verifyBundle(c.bundle, { ...keySet(caseKeys(vectors, c)), witnesses: { policy: parseWitnessPolicy(c.policy), ...(c.proof !== null ? { proof: c.proof } : {}), now: c.now * 1000 } });
      assert.deepEqual(codesOf(verdict), c.expect.reasons, JSON.stringify(verdict.reasons));
      assert.equal(verdict.valid, c.expect.valid);
      if (c.expect.reasons.includes('witness_quorum_not_met') && c.proof === null) assert.match(verdict.reasons[0]!.message, /\.tlog-proof/);
    });
  }

  it('gives the same verdict by logged time with and without the proof (revocation keeps using the bundle\'s own checkpoint)', () => {
    for (const name of ['revoked-after-logged-with-proof', 'revoked-before-logged-with-proof']) {
      const c = vectors.cases.find((x) => x.name === name)!;
      const trust = keySet(caseKeys(vectors, c));
      const withProof = verifyBundle(c.bundle, { ...trust, witnesses: { policy: parseWitnessPolicy(c.policy), proof: c.proof!, now: c.now * 1000 } });
      const without = verifyBundle(c.bundle, trust);
      assert.deepEqual(codesOf(without), codesOf(withProof), name);
      assert.equal(without.integratedTime, withProof.integratedTime);
    }
  });
});

// The live cross-check: a Python whose pyca/cryptography has ML-DSA (47 or later; Debian's 38 has
// none) makes fresh ML-DSA-44 cosignatures with the committed script, and they verify here.
function pythonWithMldsa(): string | undefined {
  const pyenv = path.join(process.env.PYENV_ROOT ?? path.join(homedir(), '.pyenv'), 'versions');
  const versions = existsSync(pyenv) ? readdirSync(pyenv).map((v) => path.join(pyenv, v, 'bin', 'python3')) : [];
  for (const candidate of ['python3', ...versions, '/usr/bin/python3']) {
    const probe = spawnSync(candidate, ['-c', 'from cryptography.hazmat.primitives.asymmetric import mldsa'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

const python = pythonWithMldsa();
const mldsaSkip = python || process.env.MODELSIGN_TEST_REQUIRE_MLDSA_PYTHON === '1' ? false : 'no python3 here has pyca/cryptography >= 47 (ML-DSA); .ci/run requires one';

describe('ML-DSA-44 cosignatures made now by pyca', { skip: mldsaSkip }, () => {
  it('verify in the TypeScript verifier, and a tampered one does not', (t) => {
    const c = vectors.cases.find((x) => x.name === 'ml-dsa-44-quorum')!;
    const note = c.proof!.slice(c.proof!.indexOf('\n\n') + 2);
    const parsed = parseSignedNote(note);
    const checkpoint = parseCheckpoint(parsed.text);
    assert.ok(python, 'a python3 with pyca/cryptography >= 47 is required here (MODELSIGN_TEST_REQUIRE_MLDSA_PYTHON=1)');
    const version = spawnSync(python!, ['-c', 'import cryptography; print(cryptography.__version__)'], { encoding: 'utf8' }).stdout.trim();
    const made = spawnSync(python!, [new URL('../../vectors/witness/make-mldsa44.py', import.meta.url).pathname, checkpoint.origin, String(checkpoint.size), toBase64(checkpoint.rootHash), String(c.now - 30), '2'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    t.diagnostic(`pyca/cryptography ${version} (${python}) made two ML-DSA-44 cosignatures`);
    const out = JSON.parse(made.stdout) as { witnesses: { vkey: string; line: string }[] };
    const policy = parseWitnessPolicy(out.witnesses.map((w, i) => `witness p${i} ${w.vkey}`).join('\n') + '\ngroup both all p0 p1\nquorum both\n');
    const lines = out.witnesses.map((w) => w.line);
    const withLines = (ls: string[]) => parseSignedNote(note + ls.map((l) => `${l}\n`).join(''));
    assert.equal(evaluateQuorum(policy, withLines(lines), checkpoint, c.now).met, true);
    const tampered = lines[1]!.slice(0, -8) + (lines[1]!.slice(-8, -7) === 'A' ? 'B' : 'A') + lines[1]!.slice(-7);
    assert.throws(() => evaluateQuorum(policy, withLines([lines[0]!, tampered]), checkpoint, c.now), /does not verify/);
  });
});
