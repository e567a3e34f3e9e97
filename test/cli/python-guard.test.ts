// The Python package's pinned-key mode (`modelsign-verify verify PATH --key PEM`, pyca/cryptography
// only; it replaced the single-file guard script examples/python held) accepts models the service signed and
// refuses each tamper case naming the file, verifies ECDSA P-256 releases and names malformed
// ECDSA material with the CLI's stable code, and refuses a name with an invisible character.
// Runs once: its subject is an offline client; the service's storage is tested in both passes elsewhere.
// Tier: external (it drives the Python client)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { p256 } from '@noble/curves/nist.js';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { runCliAsync } from '../support/process.ts';
import { pythonPackage } from '../support/python.ts';
import { TAMPERS, writeTestModel } from '../support/tamper.ts';
import { testSigner } from '../support/bundles.ts';
import { buildBundle } from '../../src/core/bundle.ts';
import { ed25519Sign } from '../../src/core/crypto/ed25519.ts';
import { spkiPem } from '../../src/core/crypto/public-key.ts';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from '../../src/core/dsse.ts';
import { rootDigest } from '../../src/core/manifest.ts';
import { subjectName } from '../../src/core/release-name.ts';
import { buildStatement, encodeStatement } from '../../src/core/statement.ts';

const pkg = pythonPackage();
// .ci/run installs Debian's python3-cryptography and sets MODELSIGN_TEST_REQUIRE_PYTHON=1, so
// this never skips there; on a machine without it, the skip says why.
const skip = !pkg && process.env.MODELSIGN_TEST_REQUIRE_PYTHON !== '1' ? 'no python3 with the cryptography package on this machine' : false;

describe('modelsign-verify (Python) with a pinned release key', { skip }, () => {
  let t: TestApp;
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-python-'));
  const folder = path.join(dir, 'llama-7b');
  const single = path.join(dir, 'ckpt.safetensors');
  const pem = path.join(dir, 'release.pem');
  const guard = (target: string, ...args: string[]) => spawnSync(pkg!.python, pkg!.module('verify', target, ...args), { encoding: 'utf8', env: { ...process.env, ...pkg!.env } });
  let server: string;

  before(async () => {
    assert.ok(pkg, 'python3 with cryptography is required');
    t = await createTestApp();
    server = await listenTestApp(t);
    const env = { MODELSIGN_SERVER: server, MODELSIGN_TOKEN: await t.publisherToken('acme') };
    writeTestModel(folder, single);
    for (const [target, model] of [[folder, 'acme/llama-7b'], [single, 'acme/ckpt']] as const) {
      const res = await runCliAsync(['sign', target, '--model', model, '--version', '1.0'], env);
      assert.equal(res.status, 0, res.stderr);
    }
    const release = t.services.keys.list().find((k) => k.purpose === 'release' && k.algorithm === 'Ed25519' && k.status === 'active')!;
    writeFileSync(pem, (await t.app.inject({ url: `/v1/keys/${release.kid}` })).json().pem);
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the intact folder and file', () => {
    for (const [target, release] of [[folder, 'acme/llama-7b@1.0'], [single, 'acme/ckpt@1.0']]) {
      const res = guard(target!, '--key', pem);
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`^verified: ${target} is ${release}, signed by [0-9a-f]{12} \\(active\\)`));
    }
  });

  for (const [what, tamper] of TAMPERS) {
    it(`refuses the folder after ${what}, naming the file`, () => {
      const copy = path.join(mkdtempSync(path.join(dir, 'tamper-')), 'llama-7b');
      cpSync(folder, copy, { recursive: true });
      const named = tamper(copy);
      const res = guard(copy, '--key', pem);
      assert.equal(res.status, 1, res.stdout + res.stderr);
      assert.match(res.stderr, /^tampered: /);
      assert.ok(res.stderr.includes(named), `${named} in ${res.stderr}`);
    });
  }

  it('verifies an ECDSA P-256 release, and names malformed ECDSA material with the stable code, as the CLI does', async () => {
    await t.services.publishers.update('acme', { signingAlgorithms: { acme: 'ecdsa-p256' } }, 'test');
    const env = { MODELSIGN_SERVER: server, MODELSIGN_TOKEN: await t.publisherToken('acme') };
    const model = path.join(dir, 'ec.safetensors');
    writeFileSync(model, Buffer.alloc(1000, 3));
    const signed = await runCliAsync(['sign', model, '--model', 'acme/ec', '--version', '1.0'], env);
    assert.equal(signed.status, 0, signed.stderr);
    const bundle = JSON.parse(readFileSync(`${model}.sig`, 'utf8'));
    const ecPem = path.join(dir, 'ec.pem');
    writeFileSync(ecPem, (await t.app.inject({ url: `/v1/keys/${bundle.verificationMaterial.publicKey.hint}` })).json().pem);
    assert.match(readFileSync(ecPem, 'utf8'), /^-----BEGIN PUBLIC KEY-----\nMFkw/, 'a P-256 key');
    let res = guard(model, '--key', ecPem);
    assert.equal(res.status, 0, res.stderr);
    const cli = await runCliAsync(['verify', model, '--server', env.MODELSIGN_SERVER]);
    assert.equal(cli.status, 0, cli.stderr + cli.stdout);

    // The same signature as IEEE P1363 r‖s, with a trailing byte, with r = 0, and with s = n.
    const der = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
    const parsed = p256.Signature.fromBytes(new Uint8Array(der), 'der');
    const rs = Buffer.from(parsed.toBytes('compact'));
    const n = Buffer.from(p256.Point.CURVE().n.toString(16), 'hex');
    const sequence = (...ints: Buffer[]) => {
      const body = Buffer.concat(ints.map((i) => Buffer.concat([Buffer.from([0x02, i.length]), i])));
      return Buffer.concat([Buffer.from([0x30, body.length]), body]);
    };
    const r = Buffer.from(parsed.toBytes('compact').subarray(0, 32));
    const positive = (b: Buffer) => (b[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
    for (const bad of [rs, Buffer.concat([der, Buffer.from([0])]), sequence(Buffer.from([0]), Buffer.from([1])), sequence(positive(r), positive(n))]) {
      bundle.dsseEnvelope.signatures[0].sig = bad.toString('base64');
      writeFileSync(`${model}.sig`, JSON.stringify(bundle));
      res = guard(model, '--key', ecPem);
      assert.equal(res.status, 1, res.stderr);
      assert.match(res.stderr, /^ {2}signature_malformed: /m);
      const report = await runCliAsync(['verify', model, '--server', env.MODELSIGN_SERVER, '--json']);
      assert.equal(report.status, EXIT.tampered, report.stderr);
      assert.equal(JSON.parse(report.stdout).reasons[0].code, 'signature_malformed');
    }
    // An Ed25519 key given for this ECDSA bundle: not the pinned key (untrusted, exit 3).
    res = guard(model, '--key', pem);
    assert.equal(res.status, EXIT.untrusted, res.stderr);
    assert.match(res.stderr, /^ {2}key_unknown: /m);
  });

  it('refuses a changed single-file checkpoint, another key, and a model without a bundle', async () => {
    const copy = path.join(dir, 'copy.safetensors');
    cpSync(single, copy);
    cpSync(`${single}.sig`, `${copy}.sig`);
    writeFileSync(copy, Buffer.alloc(500_000, 8));
    let res = guard(copy, '--key', pem);
    assert.equal(res.status, EXIT.tampered, res.stderr);
    assert.match(res.stderr, /file_missing ckpt\.safetensors/);

    const log = t.services.keys.list().find((k) => k.purpose === 'log')!;
    const other = path.join(dir, 'other.pem');
    writeFileSync(other, (await t.app.inject({ url: `/v1/keys/${log.kid}` })).json().pem);
    res = guard(single, '--key', other);
    assert.equal(res.status, EXIT.untrusted, res.stderr);
    assert.match(res.stderr, /key_unknown/);

    const unsigned = path.join(dir, 'unsigned.bin');
    writeFileSync(unsigned, 'x');
    res = guard(unsigned, '--key', pem);
    assert.equal(res.status, EXIT.io, res.stderr);
    assert.match(res.stderr, /^unsigned: no bundle at .*unsigned\.bin\.sig/);
  });

  it('refuses a bundle signed before invisible characters were refused, with the stable code and the name escaped', () => {
    const seed = new Uint8Array(32).fill(9);
    const signer = testSigner(9);
    const name = 'weights\u202Efni.bin';
    const files = [{ path: name, sha256: 'c'.repeat(64) }];
    // Made by hand, as a signer before the rule would have: buildManifest now refuses it.
    const payload = encodeStatement(buildStatement(subjectName('acme/old', '1.0'), { files, ignorePaths: [], rootDigest: rootDigest(files.map((f) => f.sha256)) }));
    const bundle = buildBundle({ payload, signature: ed25519Sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload), seed), kid: signer.kid });
    const model = path.join(dir, 'old');
    cpSync(folder, model, { recursive: true });
    writeFileSync(path.join(model, 'model.sig'), JSON.stringify(bundle));
    const key = path.join(dir, 'old.pem');
    writeFileSync(key, spkiPem({ algorithm: 'Ed25519', publicKey: signer.publicKey }));
    const res = guard(model, '--key', key);
    assert.equal(res.status, EXIT.tampered, res.stderr);
    assert.match(res.stderr, /^ {2}invisible_character "weights\\u\{202E\}fni\.bin": /m);
    assert.match(res.stderr, /U\+202E/);
    assert.doesNotMatch(res.stderr, /\u202E/);
  });
});
