// Flipping one byte of the payload, the signature, a file digest or the kid in a
// bundle makes /v1/verify answer valid: false with a reason naming what failed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle } from '../../src/core/bundle.ts';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';
import { clone, editStatement, flipBase64, testSigner } from '../support/bundles.ts';

describe('POST /v1/verify', () => {
  let t: TestApp;
  let bundle: Bundle;
  const files = [
    { path: 'weights/model.safetensors', sha256: sha('1'), size: 10 },
    { path: 'tokenizer.json', sha256: sha('2'), size: 3 },
  ];
  before(async () => {
    t = await createTestApp();
    const token = await t.publisherToken('acme');
    const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: { model: 'acme/tiny', version: '1.0', files } });
    bundle = res.json().bundle;
  });
  after(() => t.close());

  const verify = async (b: unknown, present?: { path: string; sha256: string }[]) => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle: b, ...(present ? { files: present } : {}) } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { valid: boolean; reasons: { code: string; message: string; path?: string }[]; keyStatus: string | null };
  };
  const codes = (v: { reasons: { code: string }[] }) => v.reasons.map((r) => r.code);

  it('accepts the intact bundle, with and without files', async () => {
    assert.equal((await verify(bundle)).valid, true);
    assert.equal((await verify(bundle, files.map(({ path, sha256 }) => ({ path, sha256 })))).valid, true);
  });

  it('one payload byte flipped → signature_invalid', async () => {
    for (const index of [0, 17, 100]) {
      const b = clone(bundle);
      b.dsseEnvelope.payload = flipBase64(b.dsseEnvelope.payload, index);
      const v = await verify(b);
      assert.equal(v.valid, false);
      assert.ok(codes(v).includes('signature_invalid'), JSON.stringify(v.reasons));
    }
  });

  it('one signature byte flipped → signature_invalid', async () => {
    for (const index of [0, 31, 63]) {
      const b = clone(bundle);
      b.dsseEnvelope.signatures[0]!.sig = flipBase64(b.dsseEnvelope.signatures[0]!.sig, index);
      const v = await verify(b);
      assert.equal(v.valid, false);
      // The log entry was made for the real signature, so it no longer matches either.
      assert.deepEqual(codes(v), ['signature_invalid', 'tlog_body_mismatch']);
    }
  });

  it('one byte of a file digest flipped → signature_invalid and root_digest_mismatch', async () => {
    const b = editStatement(bundle, (s) => {
      const digest: string = s.predicate.resources[1].digest;
      s.predicate.resources[1].digest = (digest[0] === '0' ? '1' : '0') + digest.slice(1);
    });
    const v = await verify(b);
    assert.equal(v.valid, false);
    assert.deepEqual(codes(v).sort(), ['root_digest_mismatch', 'signature_invalid', 'tlog_body_mismatch']);
  });

  it('one byte of the kid flipped → key_unknown', async () => {
    const b = clone(bundle);
    const hint = b.verificationMaterial.publicKey.hint;
    b.verificationMaterial.publicKey.hint = hint.slice(0, 10) + (hint[10] === 'a' ? 'b' : 'a') + hint.slice(11);
    const v = await verify(b);
    assert.equal(v.valid, false);
    // The log entry binds the key itself (its SPKI), not the hint: with no trusted key under the
    // altered hint there is nothing to rebuild the entry from, and key_unknown says why.
    assert.deepEqual(codes(v), ['key_unknown']);
  });

  it('names the files that differ from the signed manifest', async () => {
    const v = await verify(bundle, [
      { path: 'weights/model.safetensors', sha256: sha('9') },
      { path: 'evil.py', sha256: sha('3') },
    ]);
    assert.equal(v.valid, false);
    assert.deepEqual(v.reasons.map((r) => [r.code, r.path]), [
      ['file_missing', 'tokenizer.json'],
      ['file_changed', 'weights/model.safetensors'],
      ['file_extra', 'evil.py'],
    ]);
  });

  it('refuses a bundle signed with a key the service does not hold', async () => {
    const v = await verify(testSigner(3).sign('acme/tiny', '1.0', files));
    assert.deepEqual(codes(v), ['key_unknown', 'tlog_entry_missing']);
  });

  it('refuses a valid signature the service never recorded (signature_unrecorded)', async () => {
    // As if the release key were used off the books: sign with it directly, bypassing the service.
    const { buildBundle } = await import('../../src/core/bundle.ts');
    const { buildStatement, encodeStatement } = await import('../../src/core/statement.ts');
    const { buildManifest } = await import('../../src/core/manifest.ts');
    const { preAuthEncoding, IN_TOTO_PAYLOAD_TYPE } = await import('../../src/core/dsse.ts');
    const payload = encodeStatement(buildStatement('acme/tiny@6.6.6', buildManifest(files)));
    const signer = t.services.keys.signer('release');
    const offBook = buildBundle({ payload, signature: await signer.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload)), kid: signer.kid });
    const v = await verify(offBook);
    assert.equal(v.valid, false);
    // Off the books also means out of the log: nothing proves when it was made.
    assert.deepEqual(codes(v), ['tlog_entry_missing', 'signature_unrecorded']);
  });

  it('answers any JSON object bundle with a verdict, not an error', async () => {
    for (const b of [{}, { mediaType: 1 }, { ...clone(bundle), dsseEnvelope: null }]) {
      const v = await verify(b);
      assert.equal(v.valid, false);
      assert.ok(v.reasons.length > 0);
    }
  });
});
