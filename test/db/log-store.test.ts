// tlog_append, the only writer of the log's tree, and the TypeScript compact range (which
// predicts trees and replays them for monitors) build the same tree: over the RFC 6962 reference
// leaves, every root equals the root the transparency-dev/merkle vectors give for that size, and
// the stored edge and nodes equal the TypeScript ones, whether leaves arrive one by one or at once.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appendLeaves, edgeRoot, packFrontier, type TreeEdge } from '../../src/core/tlog/compact-range.ts';
import { RFC6962 } from '../../src/core/tlog/hash.ts';
import { nodeKey } from '../../src/core/tlog/proof-build.ts';
import { appendToLog, readTree } from '../../src/db/log-store.ts';
import { nodeLogHasher } from '../../src/services/support/node-hasher.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { VECTORS } from '../support/vectors.ts';

// The leaf inputs of RFC 6962's test tree, as transparency-dev/merkle's testonly package has them.
const LEAF_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => new Uint8Array(Buffer.from(h, 'hex')));
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Root by tree size, and leaf hash by index, from the happy-path vectors. */
function vectorFacts(): { roots: Map<number, string>; leaves: Map<number, string> } {
  const roots = new Map<number, string>();
  const leaves = new Map<number, string>();
  for (const kind of ['inclusion', 'consistency']) {
    for (const dir of readdirSync(path.join(VECTORS, 'merkle', kind))) {
      const file = path.join(VECTORS, 'merkle', kind, dir, 'happy-path.json');
      let v: Record<string, any>;
      try {
        v = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        continue;
      }
      if (kind === 'inclusion') {
        roots.set(v.treeSize, hex(b64(v.root)));
        leaves.set(v.leafIdx, hex(b64(v.leafHash)));
      } else {
        roots.set(v.size1, hex(b64(v.root1)));
        roots.set(v.size2, hex(b64(v.root2)));
      }
    }
  }
  return { roots, leaves };
}

async function sqlRoot(database: TestDatabase): Promise<string> {
  const [row] = await database.db.query<{ root: Uint8Array }>('SELECT "tlog_edge_root"("frontier") AS "root" FROM "tlog_state" WHERE "id" = 1');
  return hex(new Uint8Array(row!.root));
}

async function storedNodes(database: TestDatabase): Promise<Map<string, string>> {
  const rows = await database.db.query<{ level: number; idx: string; hash: Uint8Array }>('SELECT "level", "idx"::text AS "idx", "hash" FROM "tlog_nodes"');
  return new Map(rows.map((r) => [`${r.level}/${r.idx}`, hex(new Uint8Array(r.hash))]));
}

describe('tlog_append and the TypeScript tree agree over the RFC 6962 vectors', () => {
  const facts = vectorFacts();
  const leaves = LEAF_INPUTS.map((d) => RFC6962.hashLeaf(d));
  let one: TestDatabase;
  let batch: TestDatabase;
  before(async () => {
    [one, batch] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  after(async () => {
    await Promise.all([one.drop(), batch.drop()]);
  });

  it('has vectors for most sizes and hashes the reference leaves as they do', () => {
    assert.ok(facts.roots.size >= 6, `roots for sizes ${[...facts.roots.keys()]}`);
    assert.ok(facts.leaves.size >= 3);
    for (const [index, hash] of facts.leaves) {
      assert.equal(hex(leaves[index]!), hash, `leaf ${index}`);
      assert.equal(hex(nodeLogHasher.hashLeaf(LEAF_INPUTS[index]!)), hash, `leaf ${index}, node:crypto hasher`);
    }
  });

  it('gives every size the vectors\' root, in SQL and in TypeScript with both hashers, leaf by leaf', async () => {
    let edge: TreeEdge = { size: 0, frontier: [] };
    const nodes = new Map<string, string>();
    for (const [i, leaf] of leaves.entries()) {
      const start = await appendToLog(one.db, [{ hash: leaf, data: LEAF_INPUTS[i]! }]);
      assert.equal(start.startSize, i);
      assert.equal(hex(start.startFrontier), hex(packFrontier(edge.frontier)), `the edge tlog_append started from at size ${i}`);
      const step = appendLeaves(edge, [leaf]);
      assert.deepEqual(appendLeaves(edge, [leaf], nodeLogHasher), step, 'node:crypto and portable hashers build the same step');
      edge = step.edge;
      for (const n of step.nodes) nodes.set(nodeKey(n), hex(n.hash));
      const size = i + 1;
      const ts = hex(edgeRoot(edge));
      assert.equal(await sqlRoot(one), ts, `size ${size}: SQL and TypeScript roots`);
      assert.equal(hex(edgeRoot(edge, nodeLogHasher)), ts);
      if (facts.roots.has(size)) assert.equal(ts, facts.roots.get(size), `size ${size}: the vectors' root`);
      const tree = await readTree(one.db);
      assert.deepEqual([tree.size, hex(tree.frontier)], [size, hex(packFrontier(edge.frontier))]);
    }
    assert.deepEqual(await storedNodes(one), nodes, 'the same perfect subtrees stored');
  });

  it('builds the same tree when all leaves come in one call', async () => {
    const start = await appendToLog(batch.db, leaves.map((hash, i) => ({ hash, data: LEAF_INPUTS[i]! })));
    assert.equal(start.startSize, 0);
    const built = appendLeaves({ size: 0, frontier: [] }, leaves, nodeLogHasher);
    assert.equal(await sqlRoot(batch), hex(edgeRoot(built.edge)));
    assert.equal(await sqlRoot(batch), facts.roots.get(8));
    assert.deepEqual(await storedNodes(batch), new Map(built.nodes.map((n) => [nodeKey(n), hex(n.hash)])));
  });

  it('treats an empty append as no change, and the empty tree\'s root as SHA-256 of nothing', async () => {
    const fresh = await createTestDatabase();
    try {
      assert.equal(await sqlRoot(fresh), hex(RFC6962.emptyRoot()));
      assert.equal((await appendToLog(fresh.db, [])).startSize, 0);
      assert.equal((await readTree(fresh.db)).size, 0);
    } finally {
      await fresh.drop();
    }
  });
});
