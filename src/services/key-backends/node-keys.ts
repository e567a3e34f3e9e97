// Private keys in node:crypto (OpenSSL) KeyObjects, for every algorithm of the registry: about
// 16x faster than the pure-JS reference on the signing path, and the private key never exists as
// a string. A key's stored material is its private JWK `d` (for Ed25519 the RFC 8032 seed); node
// derives the public half from it, which is how a loaded key is checked against its row.
// test/services/node-signing.test.ts proves the signatures byte-identical to the reference.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { fromBase64Url, toBase64Url } from '../../core/bytes.ts';
import type { AlgorithmId, Signer } from '../../core/crypto/algorithm.ts';
import { lowS } from '../../core/crypto/ecdsa-p256.ts';
import { parseJwk } from '../../core/crypto/public-key.ts';
import { algorithmOf } from '../../core/crypto/registry.ts';
import type { PublicKey } from '../../core/keys/key.ts';

interface NodeKeyType {
  /** generateKeyPairSync's arguments. */
  generate(): { privateKey: KeyObject };
  /** The digest node:crypto's sign() takes (null: the algorithm hashes internally). */
  digest: string | null;
  /** What the signature from node becomes (the canonical form the service publishes). */
  canonical(signature: Uint8Array): Uint8Array;
}

const NODE_KEY_TYPES: Readonly<Record<AlgorithmId, NodeKeyType>> = {
  Ed25519: { generate: () => generateKeyPairSync('ed25519'), digest: null, canonical: (s) => s },
  // OpenSSL returns whichever S the nonce gives; the service publishes only low-S signatures, so
  // a signature has one form (Bitcoin's and sigstore's rule for what they produce).
  'ECDSA P-256': { generate: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), digest: 'sha256', canonical: lowS },
};

/** The public key node derives from a private KeyObject. */
export function publicKeyOf(privateKey: KeyObject): PublicKey {
  const key = parseJwk(createPublicKey(privateKey).export({ format: 'jwk' }));
  if (!key) throw new TypeError('node:crypto exported a public key of no known algorithm');
  return key;
}

/** A new key pair; `material` is the private JWK `d`, to be kept encrypted and zeroed after use. */
export function generateNodeKey(algorithm: AlgorithmId): { publicKey: PublicKey; material: Uint8Array } {
  const pair = NODE_KEY_TYPES[algorithm].generate();
  const d = pair.privateKey.export({ format: 'jwk' }).d;
  const material = typeof d === 'string' ? fromBase64Url(d) : undefined;
  if (!material) throw new TypeError('node:crypto exported a private key without d');
  return { publicKey: publicKeyOf(pair.privateKey), material };
}

/** The private KeyObject of stored material (node derives the public half from it alone). */
export function privateKeyOf(key: PublicKey, material: Uint8Array): KeyObject {
  return createPrivateKey({ key: { ...algorithmOf(key.algorithm).jwk(key.publicKey), d: toBase64Url(material) }, format: 'jwk' });
}

export function nodeSigner(kid: string, key: PublicKey, privateKey: KeyObject): Signer {
  const { digest, canonical } = NODE_KEY_TYPES[key.algorithm];
  return {
    kid,
    algorithm: key.algorithm,
    publicKey: key.publicKey,
    // One signature: synchronously, which for one costs less than a trip to the thread pool.
    sign: async (message) => canonical(new Uint8Array(sign(digest, message, { key: privateKey, dsaEncoding: 'der' }))),
    // A batch: node's callback form runs each on the libuv pool, so the event loop keeps serving
    // while the pool's threads sign.
    signMany: (messages) =>
      Promise.all(
        messages.map(
          (message) =>
            new Promise<Uint8Array>((resolve, reject) =>
              sign(digest, message, { key: privateKey, dsaEncoding: 'der' }, (err, signature) => (err ? reject(err) : resolve(canonical(new Uint8Array(signature))))),
            ),
        ),
      ),
  };
}
