// Independent implementations verify the service's signatures: OpenSSL's
// `pkeyutl -verify -rawin` and pyca/cryptography, each with the PEM from /v1/keys/{kid}, over the
// DSSE pre-authentication encoding.
// Key backends: kek, pkcs11
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { preAuthEncoding } from '../../src/core/dsse.ts';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';
import { pythonWithCryptography } from '../support/python.ts';

const PY_VERIFY = `
import sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from cryptography.exceptions import InvalidSignature
key = load_pem_public_key(open(sys.argv[1], 'rb').read())
try:
    key.verify(open(sys.argv[3], 'rb').read(), open(sys.argv[2], 'rb').read())
    print('valid')
except InvalidSignature:
    print('invalid')
    sys.exit(1)
`;

describe('interoperability of service signatures', () => {
  let t: TestApp;
  let dir: string;
  let pem: string;
  let pae: Buffer;
  let signature: Buffer;
  before(async () => {
    t = await createTestApp();
    dir = mkdtempSync(path.join(tmpdir(), 'modelsign-interop-'));
    const token = await t.publisherToken('acme');
    const signed = await t.app.inject({
      method: 'POST',
      url: '/v1/signatures',
      headers: bearer(token),
      payload: { model: 'acme/tiny', version: '1.0', files: [{ path: 'model.safetensors', sha256: sha('c'), size: 1 }] },
    });
    const { bundle, kid } = signed.json();
    const key = await t.app.inject({ url: `/v1/keys/${kid}` });
    pem = key.json().pem;
    pae = Buffer.from(preAuthEncoding(bundle.dsseEnvelope.payloadType, Buffer.from(bundle.dsseEnvelope.payload, 'base64')));
    signature = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
    writeFileSync(path.join(dir, 'key.pem'), pem);
    writeFileSync(path.join(dir, 'pae.bin'), pae);
    writeFileSync(path.join(dir, 'sig.bin'), signature);
    const bad = Buffer.from(pae);
    bad[bad.length - 2]! ^= 1;
    writeFileSync(path.join(dir, 'bad.bin'), bad);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  const openssl = (data: string) =>
    spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(dir, 'key.pem'), '-rawin', '-in', path.join(dir, data), '-sigfile', path.join(dir, 'sig.bin')], {
      encoding: 'utf8',
    });

  it('openssl pkeyutl -verify -rawin accepts the signature, and refuses it over altered data', () => {
    const good = openssl('pae.bin');
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /Signature Verified Successfully/);
    assert.notEqual(openssl('bad.bin').status, 0);
  });

  it('openssl dgst -sha256 -verify accepts an ECDSA P-256 release signature (DER, low-S), and refuses it over altered data', async () => {
    const admin = await t.adminToken();
    await t.publisherToken('ecme', ['ecme']);
    const patched = await t.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/ecme', headers: bearer(admin), payload: { signingAlgorithms: { ecme: 'ecdsa-p256' } } });
    assert.equal(patched.statusCode, 200, patched.body);
    const signed = await t.app.inject({
      method: 'POST',
      url: '/v1/signatures',
      headers: bearer(await t.publisherToken('ecme')),
      payload: { model: 'ecme/tiny', version: '1.0', files: [{ path: 'model.safetensors', sha256: sha('e'), size: 1 }] },
    });
    assert.equal(signed.statusCode, 201, signed.body);
    const { bundle, kid } = signed.json();
    writeFileSync(path.join(dir, 'ec.pem'), (await t.app.inject({ url: `/v1/keys/${kid}` })).json().pem);
    const ecPae = Buffer.from(preAuthEncoding(bundle.dsseEnvelope.payloadType, Buffer.from(bundle.dsseEnvelope.payload, 'base64')));
    writeFileSync(path.join(dir, 'ec-pae.bin'), ecPae);
    ecPae[ecPae.length - 2]! ^= 1;
    writeFileSync(path.join(dir, 'ec-bad.bin'), ecPae);
    writeFileSync(path.join(dir, 'ec-sig.der'), Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64'));
    const verify = (data: string) => spawnSync('openssl', ['dgst', '-sha256', '-verify', path.join(dir, 'ec.pem'), '-signature', path.join(dir, 'ec-sig.der'), path.join(dir, data)], { encoding: 'utf8' });
    const good = verify('ec-pae.bin');
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /Verified OK/);
    assert.notEqual(verify('ec-bad.bin').status, 0);
  });

  it('pyca/cryptography accepts the signature, and refuses it over altered data', (ctx) => {
    const python = pythonWithCryptography();
    if (!python) {
      // .ci/run installs Debian's python3-cryptography and sets MODELSIGN_TEST_REQUIRE_PYTHON=1,
      // so CI fails here rather than skip.
      assert.notEqual(process.env.MODELSIGN_TEST_REQUIRE_PYTHON, '1', 'python3 with cryptography is required');
      ctx.skip('no python3 with the cryptography package on this machine');
      return;
    }
    const script = path.join(dir, 'verify.py');
    writeFileSync(script, PY_VERIFY);
    const good = spawnSync(python, [script, path.join(dir, 'key.pem'), path.join(dir, 'pae.bin'), path.join(dir, 'sig.bin')], { encoding: 'utf8' });
    assert.equal(good.status, 0, good.stderr);
    assert.equal(good.stdout.trim(), 'valid');
    const bad = spawnSync(python, [script, path.join(dir, 'key.pem'), path.join(dir, 'bad.bin'), path.join(dir, 'sig.bin')], { encoding: 'utf8' });
    assert.equal(bad.stdout.trim(), 'invalid');
  });
});
