import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { appendLeaves, edgeRoot, packFrontier, unpackFrontier, type StoredNode } from '../../../src/core/tlog/compact-range.ts';
import { emptyRoot, leafHash } from '../../../src/core/tlog/hash.ts';
import { hashRanges, nodeKey, nodesFor } from '../../../src/core/tlog/proof-build.ts';
import { TlogError } from '../../../src/core/tlog/tlog-error.ts';
import { consistencyRanges, inclusionRanges, rangeNodes } from '../../../src/core/tlog/tree-math.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/core/tlog/verify-proof.ts';
import { NaiveTree, naiveLeafHash } from '../../support/naive-merkle.ts';
import { VECTORS } from '../../support/vectors.ts';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hashes = (list: string[] | null) => (list ?? []).map(b64);

function vectorFiles(kind: string): { file: string; data: Record<string, unknown> }[] {
  const root = path.join(VECTORS, 'merkle', kind);
  const out: { file: string; data: Record<string, unknown> }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json')) out.push({ file: path.relative(root, p), data: JSON.parse(readFileSync(p, 'utf8')) });
    }
  };
  walk(root);
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

function outcome(fn: () => void): 'ok' | 'error' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof TlogError, `unexpected error type: ${String(err)}`);
    assert.equal(err.code, 'proof_invalid');
    return 'error';
  }
}

describe('merkle vectors (transparency-dev/merkle testdata)', () => {
  const inclusion = vectorFiles('inclusion');
  const consistency = vectorFiles('consistency');
  it('has the whole vector set', () => {
    assert.ok(inclusion.length >= 90, `${inclusion.length} inclusion vectors`);
    assert.ok(consistency.length >= 90, `${consistency.length} consistency vectors`);
    assert.ok(inclusion.some((v) => !v.data.wantErr) && inclusion.some((v) => v.data.wantErr));
  });
  for (const { file, data } of inclusion) {
    it(`inclusion ${file}: ${data.wantErr ? 'refused' : 'accepted'}`, () => {
      const got = outcome(() =>
        verifyInclusion(data.leafIdx as number, data.treeSize as number, b64(data.leafHash as string), hashes(data.proof as string[]), b64(data.root as string)),
      );
      assert.equal(got, data.wantErr ? 'error' : 'ok', String(data.desc));
    });
  }
  for (const { file, data } of consistency) {
    it(`consistency ${file}: ${data.wantErr ? 'refused' : 'accepted'}`, () => {
      const got = outcome(() =>
        verifyConsistency(data.size1 as number, data.size2 as number, hashes(data.proof as string[]), b64(data.root1 as string), b64(data.root2 as string)),
      );
      assert.equal(got, data.wantErr ? 'error' : 'ok', String(data.desc));
    });
  }
});

describe('tree building and proofs against a naive RFC 6962 tree', () => {
  const N = 300;
  const leaves = Array.from({ length: N }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)));
  const naive = new NaiveTree(leaves);
  const nodes = new Map<string, Uint8Array>();
  let edge = { size: 0, frontier: [] as Uint8Array[] };
  const roots: Uint8Array[] = [emptyRoot()];
  for (const leaf of leaves) {
    const step = appendLeaves(edge, [leaf]);
    edge = step.edge;
    for (const n of step.nodes) nodes.set(nodeKey(n), n.hash);
    roots.push(edgeRoot(edge));
  }
  const lookup = (id: { level: number; index: number }) => nodes.get(nodeKey(id));

  it('leaf hashing matches the reference', () => {
    const data = new TextEncoder().encode('x');
    assert.deepEqual(leafHash(data), naiveLeafHash(data));
  });

  it('roots of every size 0..300 equal the naive MTH, and batch appends give the same nodes', () => {
    for (let n = 0; n <= N; n++) assert.deepEqual(roots[n], naive.root(n), `size ${n}`);
    const batched = appendLeaves({ size: 0, frontier: [] }, leaves.slice(0, 137));
    const more = appendLeaves(batched.edge, leaves.slice(137));
    const all: StoredNode[] = [...batched.nodes, ...more.nodes];
    assert.equal(all.length, nodes.size);
    for (const n of all) assert.deepEqual(n.hash, nodes.get(nodeKey(n)));
    assert.deepEqual(edgeRoot(more.edge), roots[N]);
  });

  it('the packed frontier round-trips and is checked against the size', () => {
    const again = unpackFrontier(edge.size, packFrontier(edge.frontier));
    assert.deepEqual(edgeRoot(again), roots[N]);
    assert.throws(() => unpackFrontier(edge.size + 1, packFrontier(edge.frontier)), TlogError);
  });

  it('every inclusion proof for sizes 1..300 equals the naive one and verifies', () => {
    let count = 0;
    for (let size = 1; size <= N; size++) {
      for (let index = 0; index < size; index++) {
        const proof = hashRanges(inclusionRanges(index, size), lookup);
        assert.deepEqual(proof, naive.inclusion(index, size), `index ${index} size ${size}`);
        verifyInclusion(index, size, leaves[index]!, proof, roots[size]!);
        count++;
      }
    }
    assert.equal(count, (N * (N + 1)) / 2);
  });

  it('every consistency proof for 1 <= from <= to <= 300 equals the naive one and verifies', () => {
    for (let to = 1; to <= N; to++) {
      for (let from = 1; from <= to; from++) {
        const proof = hashRanges(consistencyRanges(from, to), lookup);
        assert.deepEqual(proof, naive.consistency(from, to), `from ${from} to ${to}`);
        verifyConsistency(from, to, proof, roots[from]!, roots[to]!);
      }
    }
  });

  it('a proof needs O(log n) stored nodes', () => {
    const size = 2 ** 40 + 12345;
    for (const index of [0, 1, 2 ** 39, size - 1]) {
      const ids = nodesFor(inclusionRanges(index, size));
      assert.ok(ids.length <= 2 * 41, `${ids.length} nodes for index ${index}`);
    }
    assert.ok(nodesFor(consistencyRanges(1000, size)).length <= 2 * 41);
  });

  it('refuses impossible ranges', () => {
    for (const f of [
      () => inclusionRanges(5, 5),
      () => inclusionRanges(-1, 5),
      () => inclusionRanges(0.5, 5),
      () => consistencyRanges(6, 5),
      () => rangeNodes(3, 3),
      () => rangeNodes(1, 4),
    ]) {
      assert.throws(f, (e: unknown) => e instanceof TlogError && e.code === 'range_invalid');
    }
  });

  it('refuses proofs against the wrong root, index or size', () => {
    const proof = hashRanges(inclusionRanges(7, 20), lookup);
    assert.throws(() => verifyInclusion(7, 20, leaves[7]!, proof, roots[19]!), TlogError);
    assert.throws(() => verifyInclusion(6, 20, leaves[7]!, proof, roots[20]!), TlogError);
    assert.throws(() => verifyInclusion(7, 40, leaves[7]!, proof, roots[20]!), TlogError);
    assert.throws(() => verifyInclusion(7, 20, leaves[7]!, proof.slice(1), roots[20]!), TlogError);
    const cons = hashRanges(consistencyRanges(13, 20), lookup);
    assert.throws(() => verifyConsistency(13, 20, cons, roots[12]!, roots[20]!), TlogError);
    assert.throws(() => verifyConsistency(13, 20, cons, roots[13]!, roots[19]!), TlogError);
    assert.throws(() => verifyConsistency(20, 13, cons, roots[20]!, roots[13]!), TlogError);
  });
});
