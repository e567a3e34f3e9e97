// The service's signature check: OpenSSL (node:crypto) for Ed25519 and ECDSA P-256, with the
// verdicts of the strict verifier in core/crypto (@noble/curves), which stays what clients,
// browsers and the portable verifier run. noble's Ed25519 verify took 60% of a /v1/verify
// request's CPU (--cpu-prof); OpenSSL's is ~20x faster.
//
// Why the verdicts are equal: OpenSSL checks the same equation, less strictly. So
// - a key or signature that the strict verifier refuses before any arithmetic (record's
//   isStrictKey / isStrictSignature: non-canonical encodings, small-order keys, S ≥ L, bad DER,
//   points off the curve) is refused here too, before OpenSSL is asked;
// - OpenSSL's `true` then implies the strict `true` (for Ed25519 the cofactorless equation
//   implies the cofactored one noble checks; ECDSA's equation is the same);
// - OpenSSL's `false` is never trusted alone: the strict verifier decides (a mixed-order point
//   can pass the cofactored equation and fail the cofactorless one). Only forged or corrupted
//   signatures take that path, at the old cost.
// test/services/node-verifier.test.ts holds the two to the RFC 8032, Wycheproof and edge-case
// vectors.
//
// Verified signatures are also remembered (a bounded set, by a hash of algorithm, key,
// signature and message): the same bundles and checkpoints are verified again and again, and a
// signature that verified once verifies forever. Key status is not part of this: revocation is
// judged by the caller on every verdict.
import { createHash, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { AlgorithmId, SignatureVerifier } from '../core/crypto/algorithm.ts';
import { spkiDer } from '../core/crypto/public-key.ts';
import { algorithmOf } from '../core/crypto/registry.ts';

interface KeyEntry {
  /** Undefined when the strict verifier refuses the key outright. */
  keyObject: KeyObject | undefined;
}

// OpenSSL's digest argument: Ed25519 hashes internally (null), ECDSA P-256 over SHA-256.
const DIGEST: Record<AlgorithmId, string | null> = { Ed25519: null, 'ECDSA P-256': 'sha256' };

export interface NodeVerifierOptions {
  /** Signatures remembered as verified (default 10,000; 0 remembers none). */
  remember?: number;
}

export function nodeSignatureVerifier(options: NodeVerifierOptions = {}): SignatureVerifier {
  const keys = new LRUCache<string, KeyEntry>({ max: 1_000 });
  const remember = options.remember ?? 10_000;
  const verified = remember > 0 ? new LRUCache<string, true>({ max: remember }) : undefined;

  const keyEntry = (algorithm: AlgorithmId, publicKey: Uint8Array): KeyEntry => {
    const id = `${algorithm}:${Buffer.from(publicKey).toString('base64')}`;
    let entry = keys.get(id);
    if (!entry) {
      const alg = algorithmOf(algorithm);
      entry = { keyObject: alg.isStrictKey(publicKey) ? createPublicKey({ key: Buffer.from(spkiDer({ algorithm, publicKey })), format: 'der', type: 'spki' }) : undefined };
      keys.set(id, entry);
    }
    return entry;
  };

  return (key, signature, message) => {
    // Remembered only after a strict `true`, so a hit needs no other check.
    const memo = verified && createHash('sha256').update(key.algorithm).update('\0').update(key.publicKey).update(Uint8Array.of(signature.length)).update(signature).update(message).digest('base64');
    if (memo && verified!.has(memo)) return true;
    const alg = algorithmOf(key.algorithm);
    const { keyObject } = keyEntry(key.algorithm, key.publicKey);
    if (!keyObject || !alg.isStrictSignature(signature)) return false;
    let ok: boolean;
    try {
      ok = nodeVerify(DIGEST[key.algorithm], message, keyObject, signature);
    } catch {
      ok = false;
    }
    if (!ok) ok = alg.verify(signature, message, key.publicKey);
    if (ok && memo) verified!.set(memo, true);
    return ok;
  };
}
