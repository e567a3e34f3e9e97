// Every node of trees up to 70,000 leaves, computed from its tile as proofs now are, equals the
// node the naive RFC 6962 tree gives (spans crossing no tile edge, on levels 0 to 16).
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RFC6962 } from '../../../src/core/tlog/hash.ts';
import { nodeFromTile, tileSpanOf } from '../../../src/core/tlog/tile-math.ts';
import { NaiveTree, naiveLeafHash } from '../../support/naive-merkle.ts';

describe('tree nodes from tiles', () => {
  it('locates each node in one tile and folds it to the naive tree\'s hash', () => {
    const n = 70_000;
    const tree = new NaiveTree(Array.from({ length: n }, (_, i) => naiveLeafHash(new Uint8Array([i & 0xff, i >> 8, i >> 16]))));
    // The tile rows: level 8L hashes, 256 per tile.
    const levelHashes = (L: number) => Array.from({ length: Math.floor(n / 256 ** L) }, (_, i) => tree.mth(i * 256 ** L, (i + 1) * 256 ** L));
    const rows = [0, 1, 2].map((L) => levelHashes(L));
    const tile = (L: number, N: number) => Buffer.concat(rows[L]!.slice(N * 256, N * 256 + 256));
    let checked = 0;
    for (let level = 0; level <= 16; level++) {
      const count = Math.floor(n / 2 ** level);
      for (let index = 0; index < count; index += level < 8 ? 97 : 1) {
        const span = tileSpanOf({ level, index });
        assert.equal(span.level, Math.floor(level / 8));
        assert.ok(span.start + span.count <= 256, 'a node never crosses a tile');
        const got = nodeFromTile(tile(span.level, span.index), span, RFC6962);
        assert.deepEqual(Buffer.from(got), Buffer.from(tree.mth(index * 2 ** level, (index + 1) * 2 ** level)), `node ${level}/${index}`);
        checked++;
      }
    }
    assert.ok(checked > 1000);
  });
});
