// Public key encodings through the algorithm registry, for every algorithm in it: SPKI PEM as
// OpenSSL writes it, the kid rule of the upstream model_signing tool, and JWK round trips.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AlgorithmId } from '../../../src/core/crypto/algorithm.ts';
import { keyIdOf, parseJwk, parseSpkiPem, spkiDer, spkiPem, toJwk } from '../../../src/core/crypto/public-key.ts';
import { ALGORITHM_IDS, algorithmOf } from '../../../src/core/crypto/registry.ts';
import type { PublicKey } from '../../../src/core/keys/key.ts';
import { VECTORS } from '../../support/vectors.ts';

// How node:crypto makes a key of each algorithm; an algorithm added to the registry without a
// line here fails the first test.
const NODE_KEYS: Record<AlgorithmId, () => { publicKey: KeyObject; privateKey: KeyObject }> = {
  Ed25519: () => generateKeyPairSync('ed25519'),
  'ECDSA P-256': () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
};

/** A fresh key of `algorithm`, as node:crypto and as the registry see it. */
function freshKey(algorithm: AlgorithmId): { node: KeyObject; nodePrivate: KeyObject; key: PublicKey } {
  const { publicKey, privateKey } = NODE_KEYS[algorithm]();
  const der = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const raw = algorithmOf(algorithm).fromSpki(der);
  assert.ok(raw, `${algorithm}: the registry reads node's SPKI DER`);
  return { node: publicKey, nodePrivate: privateKey, key: { algorithm, publicKey: raw } };
}

describe('public key encodings', () => {
  it('covers every algorithm of the registry', () => {
    assert.deepEqual(Object.keys(NODE_KEYS).sort(), [...ALGORITHM_IDS].sort());
  });

  for (const algorithm of ALGORITHM_IDS) {
    describe(algorithm, () => {
      it('writes SPKI PEM exactly as OpenSSL does, and reads it back', () => {
        for (let i = 0; i < 20; i++) {
          const { node, key } = freshKey(algorithm);
          const pem = node.export({ type: 'spki', format: 'pem' }) as string;
          assert.equal(spkiPem(key), pem);
          assert.deepEqual(spkiDer(key), new Uint8Array(node.export({ format: 'der', type: 'spki' })));
          assert.deepEqual(parseSpkiPem(pem), key);
        }
      });

      it('derives the kid as SHA-256 of the PEM text', () => {
        const { node, key } = freshKey(algorithm);
        assert.equal(keyIdOf(key), createHash('sha256').update(node.export({ type: 'spki', format: 'pem' })).digest('hex'));
      });

      it('round-trips JWK and refuses private JWKs', () => {
        const { node, nodePrivate, key } = freshKey(algorithm);
        assert.deepEqual(toJwk(key), node.export({ format: 'jwk' }));
        assert.deepEqual(parseJwk(toJwk(key)), key);
        assert.equal(parseJwk(nodePrivate.export({ format: 'jwk' })), undefined, 'a JWK with d is refused');
      });
    });
  }

  it('derives the kid by the rule the upstream tool uses for its hint', () => {
    // The upstream bundle's hint is the SHA-256 of its signing key's PEM text (newline-terminated).
    const text = readFileSync(`${VECTORS}oms/upstream-model-signing-v1.1.0/signing-key-pub.pem`, 'utf8');
    const pem = text.slice(text.indexOf('-----BEGIN PUBLIC KEY-----'));
    const bundle = JSON.parse(readFileSync(`${VECTORS}oms/upstream-model-signing-v1.1.0/v1.1.0-elliptic-key/model.sig`, 'utf8'));
    assert.equal(createHash('sha256').update(pem).digest('hex'), bundle.verificationMaterial.publicKey.hint);
  });

  it('refuses keys of algorithms it does not know', () => {
    const { key } = freshKey('Ed25519');
    assert.equal(parseJwk({ kty: 'OKP', crv: 'X25519', x: toJwk(key).x }), undefined);
    assert.equal(parseSpkiPem(readFileSync(`${VECTORS}oms/upstream-model-signing-v1.1.0/signing-key-pub.pem`, 'utf8')), undefined, 'P-384 is not in the registry');
  });
});
