import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromBase64, fromBase64Url, toBase64, toBase64Url } from '../../src/core/bytes.ts';

describe('base64', () => {
  it('round-trips every length from 0 to 70', () => {
    for (let n = 0; n <= 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      assert.equal(toBase64(bytes), Buffer.from(bytes).toString('base64'));
      assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
      assert.equal(toBase64Url(bytes), Buffer.from(bytes).toString('base64url'));
      assert.deepEqual(fromBase64Url(toBase64Url(bytes)), bytes);
    }
  });

  it('refuses non-canonical and malformed text', () => {
    assert.equal(fromBase64('QQ='), undefined, 'bad padding');
    assert.equal(fromBase64('QR=='), undefined, 'non-zero padding bits');
    assert.equal(fromBase64('QQ== '), undefined, 'whitespace');
    assert.equal(fromBase64('Q-=='), undefined, 'url alphabet in standard base64');
    assert.equal(fromBase64Url('QR'), undefined, 'non-zero padding bits in base64url');
    assert.equal(fromBase64Url('Q'), undefined, 'impossible length');
    assert.deepEqual(fromBase64('QQ=='), new Uint8Array([0x41]));
  });
});
