// What a PKCS#11 token's CKM_ECDSA returns (IEEE P1363 r‖s) as the service publishes it: DER,
// always low-S.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { p256 } from '@noble/curves/nist.js';
import { lowSDerOfRaw } from '../../../src/core/crypto/ecdsa-p256.ts';

describe('raw ECDSA signatures from a token', () => {
  it('become low-S DER: a high-S r‖s is flipped to n - s, a low-S one kept', () => {
    const n = p256.Point.CURVE().n;
    const low = new p256.Signature(123456789n, 987654321n);
    const high = new p256.Signature(123456789n, n - 987654321n);
    assert.deepEqual(lowSDerOfRaw(low.toBytes('compact')), low.toBytes('der'));
    assert.deepEqual(lowSDerOfRaw(high.toBytes('compact')), low.toBytes('der'));
    assert.throws(() => lowSDerOfRaw(new Uint8Array(63)), /64 bytes/);
    assert.throws(() => lowSDerOfRaw(new Uint8Array(64)));
  });
});
