// The layout check: a bundle made by the upstream OpenSSF model_signing tool parses with our
// bundle code, its root digest recomputes from the files, and its ECDSA P-384 signature verifies
// over the same DSSE pre-authentication encoding we sign.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { p384 } from '@noble/curves/nist.js';
import { BUNDLE_MEDIA_TYPE } from '../../src/core/bundle.ts';
import { preAuthEncoding } from '../../src/core/dsse.ts';
import { rootDigest } from '../../src/core/manifest.ts';
import { readClaim, readEnvelope } from '../../src/core/read-bundle.ts';
import { OMS_PREDICATE_TYPE } from '../../src/core/statement.ts';
import { VECTORS } from '../support/vectors.ts';

const DIR = `${VECTORS}oms/upstream-model-signing-v1.1.0/`;
const MODEL = `${DIR}v1.1.0-elliptic-key/`;

describe('upstream OMS bundle', () => {
  const bundle = JSON.parse(readFileSync(`${MODEL}model.sig`, 'utf8'));
  const envelope = readEnvelope(bundle);
  assert.ok(envelope.ok, 'the envelope reads');
  const claim = readClaim(envelope.value.payload);
  assert.ok(claim.ok, 'the statement reads');

  it('has the layout our bundles use', () => {
    assert.equal(bundle.mediaType, BUNDLE_MEDIA_TYPE);
    assert.deepEqual(Object.keys(bundle), ['mediaType', 'verificationMaterial', 'dsseEnvelope']);
    const statement = JSON.parse(Buffer.from(envelope.value.payload).toString('utf8'));
    assert.deepEqual(Object.keys(statement), ['_type', 'subject', 'predicateType', 'predicate']);
    assert.equal(statement.predicateType, OMS_PREDICATE_TYPE);
    assert.deepEqual(Object.keys(statement.predicate.serialization), ['allow_symlinks', 'method', 'hash_type', 'ignore_paths']);
  });

  it('recomputes the root digest from the files on disk, skipping ignored paths', () => {
    const { resources, ignorePaths, rootDigest: signed } = claim.value;
    const onDisk = readdirSync(MODEL)
      .filter((name) => !ignorePaths.includes(name))
      .sort()
      .map((name) => ({ name, digest: createHash('sha256').update(readFileSync(MODEL + name)).digest('hex') }));
    assert.deepEqual(onDisk, resources.map((r) => ({ name: r.name, digest: r.digest })));
    assert.equal(rootDigest(onDisk.map((f) => f.digest)), signed);
  });

  it('verifies its ECDSA P-384 signature over the DSSE PAE (noble and OpenSSL)', () => {
    const pemText = readFileSync(`${DIR}signing-key-pub.pem`, 'utf8');
    const key = createPublicKey(pemText.slice(pemText.indexOf('-----BEGIN PUBLIC KEY-----')));
    const pae = preAuthEncoding(envelope.value.payloadType, envelope.value.payload);
    assert.ok(verify('sha384', pae, key, envelope.value.signature));
    const raw = new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(-97));
    assert.ok(p384.verify(envelope.value.signature, pae, raw, { format: 'der' }));
    const tampered = new Uint8Array(pae);
    tampered[tampered.length - 1]! ^= 1;
    assert.equal(p384.verify(envelope.value.signature, tampered, raw, { format: 'der' }), false);
  });
});
