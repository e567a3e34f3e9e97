import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { keyIdOf, parseJwk, parseSpkiPem, spkiPem, toJwk } from '../../src/core/public-key.ts';
import { VECTORS } from '../support/vectors.ts';

describe('public key encodings', () => {
  it('writes SPKI PEM exactly as OpenSSL does, and reads it back', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey } = generateKeyPairSync('ed25519');
      const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
      assert.equal(spkiPem(raw), pem);
      assert.deepEqual(parseSpkiPem(pem), raw);
    }
  });

  it('derives the kid as SHA-256 of the PEM text, the rule the upstream tool uses for its hint', () => {
    // The upstream bundle's hint is the SHA-256 of its signing key's PEM text (newline-terminated).
    const text = readFileSync(`${VECTORS}oms/upstream-model-signing-v1.1.0/signing-key-pub.pem`, 'utf8');
    const pem = text.slice(text.indexOf('-----BEGIN PUBLIC KEY-----'));
    const bundle = JSON.parse(readFileSync(`${VECTORS}oms/upstream-model-signing-v1.1.0/v1.1.0-elliptic-key/model.sig`, 'utf8'));
    assert.equal(createHash('sha256').update(pem).digest('hex'), bundle.verificationMaterial.publicKey.hint);

    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
    assert.equal(keyIdOf(raw), createHash('sha256').update(publicKey.export({ type: 'spki', format: 'pem' })).digest('hex'));
  });

  it('round-trips JWK and refuses private or foreign JWKs', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
    assert.deepEqual(toJwk(raw), { kty: 'OKP', crv: 'Ed25519', x: publicKey.export({ format: 'jwk' }).x });
    assert.deepEqual(parseJwk(toJwk(raw)), raw);
    assert.equal(parseJwk(privateKey.export({ format: 'jwk' })), undefined, 'a JWK with d is refused');
    assert.equal(parseJwk({ kty: 'OKP', crv: 'X25519', x: toJwk(raw).x }), undefined);
    assert.equal(parseSpkiPem(readFileSync(`${VECTORS}oms/upstream-model-signing-v1.1.0/signing-key-pub.pem`, 'utf8')), undefined, 'P-384 is not Ed25519');
  });
});
