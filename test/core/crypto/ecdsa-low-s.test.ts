// lowS reads and writes OpenSSL's DER itself (for speed); noble's Signature is the reference it
// must agree with, on real OpenSSL signatures and on the edges of the encoding.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { p256 } from '@noble/curves/nist.js';
import { lowS } from '../../../src/core/crypto/ecdsa-p256.ts';

const n = p256.Point.CURVE().n;
const half = n >> 1n;
/** noble's answer: the reference lowS must give. */
const reference = (der: Uint8Array): Uint8Array => {
  const sig = p256.Signature.fromBytes(der, 'der');
  return sig.hasHighS() ? new p256.Signature(sig.r, n - sig.s).toBytes('der') : der;
};
const der = (r: bigint, s: bigint) => new p256.Signature(r, s).toBytes('der');

describe('lowS (ECDSA P-256, DER)', () => {
  it("gives noble's answer on 3,000 OpenSSL signatures, high-S ones flipped, and each still verifies", () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let flipped = 0;
    for (let i = 0; i < 3000; i++) {
      const message = randomBytes(1 + (i % 200));
      const signature = new Uint8Array(sign('sha256', message, { key: privateKey, dsaEncoding: 'der' }));
      const low = lowS(signature);
      assert.deepEqual(low, reference(signature), `signature ${i}`);
      if (!Buffer.from(low).equals(signature)) flipped++;
      assert.ok(p256.Signature.fromBytes(low, 'der').s <= half);
      assert.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, low));
    }
    // About half of OpenSSL's signatures are high-S: both paths ran many times.
    assert.ok(flipped > 1200 && flipped < 1800, `${flipped} of 3000 flipped`);
  });

  it('keeps s = n/2, flips s = n/2 + 1, and writes 33-byte and short scalars minimally', () => {
    for (const [r, s] of [
      [1n, half],
      [1n, half + 1n],
      [n - 1n, n - 1n],
      [0x80n, n - 0x7fn],
      [(1n << 255n) + 5n, (1n << 255n) + 7n],
      [(1n << 247n) - 1n, n - ((1n << 247n) - 1n)],
      [12345n, n - 1n],
    ] as const) {
      const signature = der(r, s);
      assert.deepEqual(lowS(signature), reference(signature), `r ${r.toString(16)}, s ${s.toString(16)}`);
    }
    assert.deepEqual(lowS(der(1n, half)), der(1n, half));
    assert.deepEqual(lowS(der(1n, half + 1n)), der(1n, half));
  });

  it('refuses what is not a DER signature of P-256, as noble does', () => {
    const good = der(7n, n - 9n);
    const cases: [string, Uint8Array][] = [
      ['a trailing byte', Uint8Array.from([...good.subarray(0, 1), good[1]! + 1, ...good.subarray(2), 0])],
      ['a non-minimal INTEGER', Uint8Array.from([0x30, 0x07, 0x02, 0x02, 0x00, 0x07, 0x02, 0x01, 0x09])],
      ['s = 0', Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x07, 0x02, 0x01, 0x00])],
      ['s = n', Uint8Array.from([0x30, 0x26, 0x02, 0x01, 0x07, 0x02, 0x21, 0x00, ...Buffer.from(n.toString(16), 'hex')])],
      ['a truncated one', good.subarray(0, good.length - 1)],
    ];
    for (const [what, bad] of cases) assert.throws(() => lowS(bad), Error, what);
  });
});
