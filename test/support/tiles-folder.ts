// A C2SP tlog-tiles log written straight into a folder, as a static host would serve it: hash
// tiles, entry bundles and a checkpoint signed by the given log signer. For tests that need a log
// the service did not make (a forked tree under the same key, another project's log) and for
// bench:mirror's 1,000,000-entry source. Built with the service's own tree code (appendLeaves
// yields every complete subtree; a level-L tile holds the level-8L ones).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Signer } from '../../src/core/crypto/algorithm.ts';
import { appendLeaves, edgeRoot, type TreeEdge } from '../../src/core/tlog/compact-range.ts';
import { signCheckpoint } from '../../src/core/tlog/log-note.ts';
import { formatTilePath, TILE_HEIGHT, TILE_WIDTH, type TileAddress } from '../../src/core/tlog/tile-path.ts';
import { formatVkey, NOTE_TYPE } from '../../src/core/tlog/vkey.ts';
import { nodeLogHasher } from '../../src/services/support/node-hasher.ts';

function write(dir: string, rel: string, bytes: Uint8Array | string): void {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

/**
 * Writes the log of the leaves `leaf(0) … leaf(size - 1)` into `dir` and returns its vkey and
 * checkpoint note. Leaves are made a batch at a time, so a million of them fit in memory.
 */
export async function writeTilesFolder(dir: string, o: { origin: string; size: number; leaf: (i: number) => Uint8Array; signer: Signer; timestamp?: number }): Promise<{ vkey: string; note: string }> {
  let edge: TreeEdge = { size: 0, frontier: [] };
  // Hashes of the current (unfinished) tile of each level, and the current bundle.
  const rows = new Map<number, Uint8Array[]>();
  let bundle: Uint8Array[] = [];
  const flushTile = (level: number, index: number, hashes: Uint8Array[]) => {
    const t: TileAddress = { kind: 'hash', level, index, width: hashes.length === TILE_WIDTH ? undefined : hashes.length };
    write(dir, `tile/${formatTilePath(t)}`, Buffer.concat(hashes));
  };
  const flushBundle = (index: number) => {
    const t: TileAddress = { kind: 'entries', level: 0, index, width: bundle.length === TILE_WIDTH ? undefined : bundle.length };
    write(dir, `tile/${formatTilePath(t)}`, Buffer.concat(bundle.flatMap((d) => [Buffer.from([d.length >> 8, d.length & 0xff]), d])));
    bundle = [];
  };
  const BATCH = 4096;
  for (let start = 0; start < o.size; start += BATCH) {
    const data = Array.from({ length: Math.min(BATCH, o.size - start) }, (_, k) => o.leaf(start + k));
    const step = appendLeaves(edge, data.map((d) => nodeLogHasher.hashLeaf(d)), nodeLogHasher);
    edge = step.edge;
    for (const n of step.nodes) {
      if (n.level % TILE_HEIGHT !== 0) continue;
      const level = n.level / TILE_HEIGHT;
      const row = rows.get(level) ?? [];
      row.push(n.hash);
      rows.set(level, row);
      if (row.length === TILE_WIDTH) {
        flushTile(level, Math.floor(n.index / TILE_WIDTH), row);
        rows.set(level, []);
      }
    }
    data.forEach((d, k) => {
      bundle.push(d);
      if (bundle.length === TILE_WIDTH) flushBundle(Math.floor((start + k) / TILE_WIDTH));
    });
  }
  for (const [level, row] of rows) if (row.length > 0) flushTile(level, Math.floor(o.size / TILE_WIDTH ** (level + 1)), row);
  if (bundle.length > 0) flushBundle(Math.floor(o.size / TILE_WIDTH));
  const note = await signCheckpoint({ origin: o.origin, size: o.size, rootHash: edgeRoot(edge, nodeLogHasher) }, o.signer, o.timestamp ?? 1_780_000_000);
  write(dir, 'checkpoint', note);
  return { vkey: formatVkey(o.origin, NOTE_TYPE.ed25519, o.signer.publicKey), note };
}
