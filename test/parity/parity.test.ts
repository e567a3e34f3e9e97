// Tier: quick
// One parity suite for the two verifiers: the TypeScript one (core/verify-bundle.ts, what the
// service, the CLI and the console run) and the Python one (python/src/modelsign_verify), on the
// committed vectors (test/parity/vectors.json, made by make-vectors.ts with expectations written
// per mutation, and [witness-verify]'s test/vectors/witness/cases.json). Both must give every
// case its expected verdict and reasons, in order. The Python side runs under every interpreter
// here with pyca/cryptography: Debian's (38, no ML-DSA: those cases must say so) and one with
// ML-DSA (47 or later) where the machine has one. CI also runs the same cases with pytest against
// the installed wheel (python/tests/test_parity.py).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ECDSA_P256 } from '../../src/core/crypto/ecdsa-p256.ts';
import { ED25519 } from '../../src/core/crypto/ed25519.ts';
import { p256Vectors } from '../support/ecdsa-vectors.ts';
import { edgeCaseVectors, wycheproofVectors } from '../support/ed25519-vectors.ts';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseJwk, parseSpkiPem } from '../../src/core/crypto/public-key.ts';
import { trustedKeysFromJwks } from '../../src/core/keys/jwks.ts';
import { KeyChainError, verifyKeyChain } from '../../src/core/keys/key-chain.ts';
import type { TrustedKey } from '../../src/core/keys/key.ts';
import { keySet } from '../../src/core/keys/key-set.ts';
import { parseWitnessPolicy } from '../../src/core/tlog/witness-policy.ts';
import { REASON_CODES } from '../../src/core/verdict.ts';
import { verifyBundle } from '../../src/core/verify-bundle.ts';
import { witnessVectors } from '../support/witness-vectors.ts';
import { NOTE_TYPE } from '../../src/core/tlog/vkey.ts';
import { parityVectors, type ParityCase } from './make-vectors.ts';

const VECTORS = new URL('vectors.json', import.meta.url);
const WITNESS = new URL('../vectors/witness/cases.json', import.meta.url);
const vectors = JSON.parse(readFileSync(VECTORS, 'utf8')) as Awaited<ReturnType<typeof parityVectors>>;
const witness = witnessVectors();
const ROOT = new URL('../../', import.meta.url).pathname;

type Outcome = { valid: boolean; reasons: string[] } | { error: string };

function trustOf(c: ParityCase): TrustedKey[] {
  const t = c.trust as Record<string, any>;
  if (t.keys) {
    return t.keys.map((e: any) => ({ kid: e.kid, ...parseJwk(e.jwk)!, purpose: e.purpose, status: e.status, compromisedAt: e.compromisedAt ? new Date(e.compromisedAt) : null }));
  }
  if (t.jwks) return trustedKeysFromJwks(t.jwks) ?? [];
  return verifyKeyChain(t.chain, parseSpkiPem(t.pin)!);
}

function runTs(c: ParityCase): Outcome {
  let keys: TrustedKey[];
  try {
    keys = trustOf(c);
  } catch (err) {
    if (err instanceof KeyChainError) return { error: err.code };
    throw err;
  }
  const w = c.witness;
  const verdict = verifyBundle(c.bundle, {
    ...keySet(keys),
    ...(c.files ? { files: c.files } : {}),
    skipTlog: c.skipTlog,
    ...(w ? { witnesses: { policy: parseWitnessPolicy(w.policy), ...(w.proof !== null ? { proof: w.proof } : {}), now: w.now * 1000 } } : {}),
  });
  return { valid: verdict.valid, reasons: verdict.reasons.map((r) => r.code) };
}

describe('parity vectors (test/parity/vectors.json)', () => {
  it('are what make-vectors.ts makes (regenerating changes nothing)', async () => {
    assert.deepEqual(JSON.parse(JSON.stringify(await parityVectors())), vectors);
  });

  it('name every reason code the TypeScript verifier has, and cover each at least three times and every mutation class', () => {
    assert.deepEqual(vectors.reasonCodes, Object.keys(REASON_CODES));
    const counts = new Map<string, number>();
    for (const c of [...vectors.cases, ...witness.cases]) for (const r of 'reasons' in c.expect ? c.expect.reasons : []) counts.set(r, (counts.get(r) ?? 0) + 1);
    for (const code of Object.keys(REASON_CODES)) {
      if (vectors.onlineOnlyCodes.includes(code)) continue;
      assert.ok((counts.get(code) ?? 0) >= 3, `${code}: ${counts.get(code) ?? 0} cases`);
    }
    const classes = new Set(vectors.cases.map((c) => c.class));
    for (const k of ['valid', 'envelope', 'signature', 'key', 'revocation', 'statement', 'resource', 'files', 'tlog-entry', 'log-key', 'checkpoint', 'inclusion', 'compound', 'witness', 'chain']) assert.ok(classes.has(k), k);
    assert.ok(vectors.cases.some((c) => 'error' in c.expect));
  });

  it('TypeScript verifier: every case as expected', () => {
    const wrong = vectors.cases.map((c) => ({ name: c.name, got: runTs(c), want: c.expect })).filter((r) => JSON.stringify(r.got) !== JSON.stringify(r.want));
    assert.deepEqual(wrong, []);
  });
});

/** Every python3 here with pyca/cryptography, Debian's first, with its cryptography version. */
function pythons(): { python: string; version: string; mldsa: boolean }[] {
  const pyenv = path.join(process.env.PYENV_ROOT ?? path.join(homedir(), '.pyenv'), 'versions');
  const candidates = ['/usr/bin/python3', 'python3', ...(existsSync(pyenv) ? readdirSync(pyenv).map((v) => path.join(pyenv, v, 'bin', 'python3')) : [])];
  const found = new Map<string, { python: string; version: string; mldsa: boolean }>();
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import sys, cryptography\ntry:\n from cryptography.hazmat.primitives.asymmetric import mldsa; m = 1\nexcept ImportError: m = 0\nprint(sys.executable, cryptography.__version__, m)'], { encoding: 'utf8' });
    if (probe.status !== 0) continue;
    const [exe, version, mldsa] = probe.stdout.trim().split(' ');
    if (!found.has(`${exe}|${version}`)) found.set(`${exe}|${version}`, { python, version: version!, mldsa: mldsa === '1' });
  }
  return [...found.values()];
}

const interpreters = pythons();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const signatureCases = [
  ...[...edgeCaseVectors(), ...wycheproofVectors()].map((v) => ({ alg: 'Ed25519', pk: hex(v.publicKey), msg: hex(v.message), sig: hex(v.signature), ts: ED25519.verify(v.signature, v.message, v.publicKey) })),
  ...p256Vectors('der').map((v) => ({ alg: 'ECDSA P-256', pk: hex(v.publicKey), msg: hex(v.message), sig: hex(v.signature), ts: ECDSA_P256.verify(v.signature, v.message, v.publicKey) })),
];

/** Whether an Ed25519 case's key or R decodes to a point of mixed order (with a small-order component). */
function hasMixedOrderPoint(c: { pk: string; sig: string }): boolean {
  const mixed = (h: string) => {
    try {
      const p = ed25519.Point.fromBytes(Buffer.from(h, 'hex'));
      return !p.isTorsionFree() && !p.isSmallOrder();
    } catch {
      return false;
    }
  };
  return mixed(c.pk) || mixed(c.sig.slice(0, 64));
}
const pythonSkip = interpreters.length > 0 || process.env.MODELSIGN_TEST_REQUIRE_PYTHON === '1' ? false : 'no python3 with pyca/cryptography here (.ci/run installs one)';

describe('Python verifier on the same vectors', { skip: pythonSkip }, () => {
  it('has an interpreter with ML-DSA where CI requires one', { skip: process.env.MODELSIGN_TEST_REQUIRE_MLDSA_PYTHON === '1' ? false : 'only .ci/run requires it' }, () => {
    assert.ok(interpreters.some((p) => p.mldsa), JSON.stringify(interpreters));
  });

  for (const py of interpreters) {
    it(`${py.python} (pyca/cryptography ${py.version}): every case as expected${py.mldsa ? '' : ', ML-DSA-44 cases refused as needing cryptography>=47'}`, () => {
      const run = spawnSync(py.python, [path.join(ROOT, 'python/tests/parity.py'), VECTORS.pathname, WITNESS.pathname], {
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: [path.join(ROOT, 'python/src'), path.join(ROOT, 'python/tests')].join(path.delimiter), PYTHONDONTWRITEBYTECODE: '1' },
        maxBuffer: 64 * 1024 * 1024,
      });
      assert.equal(run.status, 0, run.stderr);
      const expected = new Map<string, Outcome>();
      for (const c of vectors.cases) expected.set(`vectors.json|${c.name}`, c.expect);
      // Only a case whose policy names an ML-DSA-44 witness may be refused for want of ML-DSA.
      const mldsaCases = new Set(witness.cases.filter((c) => parseWitnessPolicy(c.policy).witnesses.some((w) => w.key.type === NOTE_TYPE.mldsa44)).map((c) => c.name));
      for (const c of witness.cases) expected.set(`cases.json|${c.name}`, c.expect);
      const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; name: string; got: Outcome });
      assert.equal(lines.length, vectors.cases.length + witness.cases.length);
      const wrong: unknown[] = [];
      let refused = 0;
      for (const l of lines) {
        const key = `${l.file}|${l.name}`;
        const needsMldsa = l.file === 'cases.json' && 'error' in l.got && l.got.error === 'mldsa_unavailable';
        if (needsMldsa && !py.mldsa && mldsaCases.has(l.name)) {
          refused++;
          continue;
        }
        if (JSON.stringify(l.got) !== JSON.stringify(expected.get(key))) wrong.push({ case: key, got: l.got, want: expected.get(key) });
      }
      assert.deepEqual(wrong, []);
      if (!py.mldsa) assert.ok(refused >= 3, `ML-DSA cases refused: ${refused}`);
      else assert.equal(refused, 0);
    });

    // The signature primitives on the public vectors (noble's Ed25519 edge cases, Wycheproof EdDSA
    // and ECDSA P-256 DER): the same verdict on each, but for the documented fail-closed case
    // (python/README.md, "Differences"): an Ed25519 signature whose key or R has a small-order component
    // can satisfy noble's cofactored equation, not OpenSSL's cofactorless one.
    it(`${py.python} (pyca/cryptography ${py.version}): Ed25519 and ECDSA P-256 verdicts on ${signatureCases.length} public vectors`, () => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'modelsign-parity-')), 'signatures.json');
      writeFileSync(file, JSON.stringify(signatureCases));
      const run = spawnSync(py.python, [path.join(ROOT, 'python/tests/parity.py'), '--signatures', file], {
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: [path.join(ROOT, 'python/src'), path.join(ROOT, 'python/tests')].join(path.delimiter), PYTHONDONTWRITEBYTECODE: '1' },
      });
      rmSync(path.dirname(file), { recursive: true, force: true });
      assert.equal(run.status, 0, run.stderr);
      const verdicts = JSON.parse(run.stdout) as boolean[];
      const differ = signatureCases.flatMap((c, i) => (c.ts === verdicts[i] ? [] : [{ ...c, python: verdicts[i] }]));
      assert.ok(differ.every((d) => d.alg === 'Ed25519' && d.ts && !d.python && hasMixedOrderPoint(d)), JSON.stringify(differ));
      assert.ok(differ.length <= 2, `${differ.length} differences`);
      assert.ok(signatureCases.filter((c) => c.ts).length > 200);
    });
  }
});

