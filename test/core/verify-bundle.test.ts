import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReasonCode } from '../../src/core/verdict.ts';
import type { TrustedKey } from '../../src/core/keys/key.ts';
import { verifyBundle } from '../../src/core/verify-bundle.ts';
import { clone, editStatement, flipBase64, testSigner } from '../support/bundles.ts';

const d = (c: string) => c.repeat(64);
const signer = testSigner();
const files = [
  { path: 'model.safetensors', sha256: d('a'), size: 10 },
  { path: 'config/model.json', sha256: d('b'), size: 2 },
];
const bundle = signer.sign('acme/tiny', '1.0', files, ['.git']);
const resolveKey = (kid: string) => (kid === signer.kid ? signer.trusted : undefined);
// These bundles are made by a test signer without a log: the log checks have their own tests.
const requireTlog = false;
const codes = (v: { reasons: { code: ReasonCode }[] }) => v.reasons.map((r) => r.code);

describe('verifyBundle', () => {
  it('accepts an intact bundle and reports what it signs', () => {
    const v = verifyBundle(bundle, { resolveKey, requireTlog });
    assert.deepEqual(v.reasons, []);
    assert.equal(v.valid, true);
    assert.equal(v.model, 'acme/tiny');
    assert.equal(v.version, '1.0');
    assert.equal(v.kid, signer.kid);
    assert.equal(v.keyStatus, 'active');
  });

  it('accepts matching files, ignoring ignored paths', () => {
    const present = [...files, { path: '.git/HEAD', sha256: d('c') }].map(({ path, sha256 }) => ({ path, sha256 }));
    assert.equal(verifyBundle(bundle, { resolveKey, requireTlog, files: present }).valid, true);
  });

  const tampers: [string, () => unknown, ReasonCode][] = [
    ['one payload byte', () => ({ ...clone(bundle), dsseEnvelope: { ...bundle.dsseEnvelope, payload: flipBase64(bundle.dsseEnvelope.payload, 40) } }), 'signature_invalid'],
    ['one signature byte', () => {
      const b = clone(bundle);
      b.dsseEnvelope.signatures[0]!.sig = flipBase64(b.dsseEnvelope.signatures[0]!.sig, 5);
      return b;
    }, 'signature_invalid'],
    ['a file digest', () => editStatement(bundle, (s) => (s.predicate.resources[0].digest = d('f'))), 'root_digest_mismatch'],
    ['the kid', () => {
      const b = clone(bundle);
      b.verificationMaterial.publicKey.hint = (b.verificationMaterial.publicKey.hint[0] === '0' ? '1' : '0') + b.verificationMaterial.publicKey.hint.slice(1);
      return b;
    }, 'key_unknown'],
    ['the payload type', () => ({ ...clone(bundle), dsseEnvelope: { ...bundle.dsseEnvelope, payloadType: 'application/json' } }), 'payload_type'],
    ['the media type', () => ({ ...clone(bundle), mediaType: 'application/vnd.dev.sigstore.bundle.v0.2+json' }), 'bundle_media_type'],
    ['a second signature', () => {
      const b = clone(bundle);
      b.dsseEnvelope.signatures.push(b.dsseEnvelope.signatures[0]!);
      return b;
    }, 'signature_count'],
    ['a resource name to a traversal', () => editStatement(bundle, (s) => (s.predicate.resources[0].name = '../../etc/passwd')), 'resource_unsafe'],
    ['the subject name', () => editStatement(bundle, (s) => (s.subject[0].name = 'not a release')), 'subject_malformed'],
    ['the predicate type', () => editStatement(bundle, (s) => (s.predicateType = 'https://example.com/other')), 'statement_unsupported'],
    ['the payload to non-JSON', () => ({ ...clone(bundle), dsseEnvelope: { ...bundle.dsseEnvelope, payload: Buffer.from('{nope').toString('base64') } }), 'payload_malformed'],
    ['not a bundle at all', () => 'model.sig', 'bundle_malformed'],
  ];
  for (const [what, make, expected] of tampers) {
    it(`refuses a change to ${what} with ${expected}`, () => {
      const v = verifyBundle(make(), { resolveKey, requireTlog });
      assert.equal(v.valid, false);
      assert.ok(codes(v).includes(expected), `reasons were ${JSON.stringify(codes(v))}`);
    });
  }

  it('names changed, missing and extra files', () => {
    const v = verifyBundle(bundle, {
      resolveKey,
      requireTlog,
      files: [
        { path: 'model.safetensors', sha256: d('0') },
        { path: 'extra.bin', sha256: d('1') },
      ],
    });
    assert.deepEqual(v.reasons.map((r) => [r.code, r.path]), [
      ['file_missing', 'config/model.json'],
      ['file_changed', 'model.safetensors'],
      ['file_extra', 'extra.bin'],
    ]);
  });

  it('refuses keys that are revoked, pending, of another purpose, or do not hash to the kid', () => {
    const variants: [Partial<TrustedKey>, ReasonCode][] = [
      [{ status: 'revoked' }, 'key_revoked'],
      [{ status: 'pending' }, 'key_not_active'],
      [{ purpose: 'log' }, 'key_wrong_purpose'],
      [{ publicKey: testSigner(9).publicKey }, 'key_mismatch'],
    ];
    for (const [change, expected] of variants) {
      const v = verifyBundle(bundle, { resolveKey: () => ({ ...signer.trusted, ...change }), requireTlog });
      assert.equal(v.valid, false);
      assert.ok(codes(v).includes(expected), `${expected}: ${JSON.stringify(codes(v))}`);
    }
    const retired = verifyBundle(bundle, { resolveKey: () => ({ ...signer.trusted, status: 'retired' }), requireTlog });
    assert.equal(retired.valid, true, 'a retired key still verifies what it signed');
  });

  it('requires a log entry unless told otherwise', () => {
    assert.deepEqual(codes(verifyBundle(bundle, { resolveKey })), ['tlog_entry_missing']);
  });
});
