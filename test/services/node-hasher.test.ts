// The node:crypto hasher (services/support/node-hasher.ts) against the portable one and against
// node's own SHA-256, on inputs of every shape its scratch buffer meets: empty, split in parts,
// past the buffer's first size (so it grows), and smaller again after it grew; and each hash it
// returns stays what it was while later calls reuse the buffer.
// Tier: quick
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { portableSha256, RFC6962 } from '../../src/core/tlog/hash.ts';
import { nodeLogHasher, nodeSha256 } from '../../src/services/support/node-hasher.ts';

const sha = (...parts: Uint8Array[]) => new Uint8Array(createHash('sha256').update(Buffer.concat(parts)).digest());

describe('nodeSha256 and nodeLogHasher', () => {
  it('hash every input size and split as node:crypto and the portable hasher do', () => {
    const sizes = [0, 1, 31, 32, 33, 64, 65, 1023, 1024, 1025, 4096, 70_000, 65, 0, 100_000, 3];
    for (const size of sizes) {
      const input = new Uint8Array(randomBytes(size));
      const cut = Math.floor(size / 3);
      const parts = [input.subarray(0, cut), new Uint8Array(0), input.subarray(cut)];
      assert.deepEqual(nodeSha256(input), sha(input), `size ${size}`);
      assert.deepEqual(nodeSha256(...parts), sha(input), `size ${size} in parts`);
      assert.deepEqual(nodeSha256(...parts), portableSha256(...parts), `size ${size}, portable`);
      // One part is hashed where it lies: a view into a larger buffer, at an offset.
      const pooled = Buffer.concat([Buffer.from([0xff, 0x80]), input, Buffer.from([0x7f])]);
      assert.deepEqual(nodeSha256(pooled.subarray(2, 2 + size)), sha(input), `size ${size} as a view`);
    }
  });

  it('returns hashes that later calls do not change, as plain Uint8Arrays of 32 bytes', () => {
    const first = nodeSha256(new Uint8Array([1, 2, 3]));
    const copy = new Uint8Array(first);
    for (let i = 0; i < 100; i++) nodeSha256(new Uint8Array(randomBytes(i * 50)));
    assert.deepEqual(first, copy);
    assert.equal(Object.getPrototypeOf(first), Uint8Array.prototype);
    assert.equal(first.length, 32);
  });

  it('leaf and node hashes equal the portable RFC 6962 hasher', () => {
    for (let i = 0; i < 50; i++) {
      const leaf = new Uint8Array(randomBytes(i * 37));
      const left = new Uint8Array(randomBytes(32));
      const right = new Uint8Array(randomBytes(32));
      assert.deepEqual(nodeLogHasher.hashLeaf(leaf), RFC6962.hashLeaf(leaf));
      assert.deepEqual(nodeLogHasher.hashChildren(left, right), RFC6962.hashChildren(left, right));
    }
    assert.deepEqual(nodeLogHasher.emptyRoot(), RFC6962.emptyRoot());
  });
});
