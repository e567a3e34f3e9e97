// ECDSA P-256 release keys beside Ed25519: an admin sets a namespace's algorithm; its releases
// are signed with the active ECDSA key (always low-S) and verify; bad admin input is a 400
// problem; and malformed ECDSA material in a bundle is a verdict reason with a stable code.
// Key backends: kek, pkcs11
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { p256 } from '@noble/curves/nist.js';
import { fromBase64, toBase64 } from '../../src/core/bytes.ts';
import { hasHighS } from '../../src/core/crypto/ecdsa-p256.ts';
import { verifySignature } from '../../src/core/crypto/public-key.ts';
import { generateNodeKey, nodeSigner, privateKeyOf } from '../../src/services/key-backends/node-keys.ts';
import { keyIdOf } from '../../src/core/crypto/public-key.ts';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';
import { clone } from '../support/bundles.ts';
import { codes, onlineVerdict } from '../support/keys.ts';

const N = p256.Point.CURVE().n;
const der = (r: bigint, s: bigint) => new p256.Signature(r, s).toBytes('der');

describe('ECDSA P-256 namespaces', () => {
  let t: TestApp;
  let admin: string;
  let pub: string;
  let ec: any;
  let ed: any;
  before(async () => {
    t = await createTestApp();
    admin = await t.adminToken();
    pub = await t.publisherToken('acme', ['acme', 'acme-ec']);
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(admin), payload: { signingAlgorithms: { 'acme-ec': 'ecdsa-p256' } } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().signingAlgorithms, { acme: 'ed25519', 'acme-ec': 'ecdsa-p256' });
    const sign = async (model: string) =>
      (await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(pub), payload: { model, version: '1', files: [{ path: 'w.bin', sha256: sha('a'), size: 1 }] } })).json();
    ec = await sign('acme-ec/m');
    ed = await sign('acme/m');
  });
  after(() => t.close());

  it('signs a namespace set to ecdsa-p256 with the active ECDSA key, published as an EC JWK, and the bundle verifies', async () => {
    const key = t.services.keys.get(ec.kid)!;
    assert.equal(key.algorithm, 'ECDSA P-256');
    assert.equal(t.services.keys.get(ed.kid)!.algorithm, 'Ed25519');
    const jwk = (await t.app.inject({ url: `/v1/keys/${ec.kid}` })).json().jwk;
    assert.deepEqual([jwk.kty, jwk.crv, jwk.alg, typeof jwk.y], ['EC', 'P-256', 'ES256', 'string']);
    assert.deepEqual((await onlineVerdict(t, ec.bundle)).reasons, []);
    assert.deepEqual((await onlineVerdict(t, ed.bundle)).reasons, []);
    assert.equal(fromBase64(ec.bundle.dsseEnvelope.signatures[0].sig)![0], 0x30, 'DER');
  });

  it('signs low-S always (300 signatures; about half would be high-S otherwise)', async () => {
    const { publicKey, material } = generateNodeKey('ECDSA P-256');
    const signer = nodeSigner(keyIdOf(publicKey), publicKey, privateKeyOf(publicKey, material));
    for (let i = 0; i < 300; i++) {
      const message = new TextEncoder().encode(`message ${i}`);
      const sig = await signer.sign(message);
      assert.equal(hasHighS(sig), false);
      assert.ok(verifySignature(publicKey, sig, message));
    }
  });

  it('refuses bad admin input with a 400 problem and a stable code', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ signingAlgorithms: { acme: 'rsa-2048' } }, 'invalid_algorithm'],
      [{ signingAlgorithms: { 'not-mine': 'ecdsa-p256' } }, 'invalid_namespace'],
      [{ signingAlgorithms: { acme: 7 } }, 'validation_failed'],
    ];
    for (const [payload, code] of cases) {
      const res = await t.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(admin), payload });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(res.json().code, code, JSON.stringify(payload));
    }
    const rotate = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'release', algorithm: 'rsa-2048' } });
    assert.equal(rotate.statusCode, 400);
    assert.equal(rotate.json().code, 'validation_failed');
    const logEc = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'log', algorithm: 'ecdsa-p256' } });
    assert.equal(logEc.statusCode, 400);
    assert.equal(logEc.json().code, 'validation_failed');
  });

  it('gives a stable reason for malformed ECDSA material (r‖s, trailing bytes, zero or out-of-range scalars, the other algorithm\'s signature)', async () => {
    const sig = fromBase64(ec.bundle.dsseEnvelope.signatures[0].sig)!;
    const parsed = p256.Signature.fromBytes(sig, 'der');
    const variants: [string, Uint8Array, string][] = [
      ['the P1363 r‖s form', parsed.toBytes('compact'), 'signature_malformed'],
      ['trailing DER bytes', new Uint8Array([...sig, 0]), 'signature_malformed'],
      ['r = 0', new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01]), 'signature_malformed'],
      ['s = n', derWith(parsed.r, N), 'signature_malformed'],
      ['an Ed25519 signature for an ECDSA key', fromBase64(ed.bundle.dsseEnvelope.signatures[0].sig)!, 'signature_malformed'],
      // The high-S twin verifies (Wycheproof and OpenSSL call it valid), but the log entry binds
      // the exact signature bytes, so it is not the logged signature.
      ['the high-S twin', der(parsed.r, N - parsed.s), 'tlog_body_mismatch'],
    ];
    for (const [what, bytes, code] of variants) {
      const b = clone(ec.bundle);
      b.dsseEnvelope.signatures[0].sig = toBase64(bytes);
      const v = await onlineVerdict(t, b);
      assert.equal(v.valid, false, what);
      assert.equal(codes(v)[0], code, `${what}: ${JSON.stringify(v.reasons)}`);
    }
    // A DER signature for an Ed25519 key.
    const other = clone(ed.bundle);
    other.dsseEnvelope.signatures[0].sig = ec.bundle.dsseEnvelope.signatures[0].sig;
    assert.equal(codes(await onlineVerdict(t, other))[0], 'signature_malformed');
    // A point off the curve in the log entry's body: the body is not the one the bundle derives.
    const offCurve = clone(ec.bundle);
    const entry = offCurve.verificationMaterial.tlogEntries[0];
    const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString());
    const spki = Buffer.from(body.spec.hashedRekordV002.signature.verifier.publicKey.rawBytes, 'base64');
    spki[spki.length - 1]! ^= 1;
    body.spec.hashedRekordV002.signature.verifier.publicKey.rawBytes = spki.toString('base64');
    entry.canonicalizedBody = Buffer.from(JSON.stringify(body)).toString('base64');
    assert.deepEqual(codes(await onlineVerdict(t, offCurve)), ['tlog_body_mismatch']);
  });
});

/** A DER signature with an s the Signature class would refuse to hold (s = n). */
function derWith(r: bigint, s: bigint): Uint8Array {
  const int = (v: bigint) => {
    let h = v.toString(16);
    if (h.length % 2) h = '0' + h;
    if (parseInt(h.slice(0, 2), 16) >= 0x80) h = '00' + h;
    const bytes = Buffer.from(h, 'hex');
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30, body.length]), body]));
}
