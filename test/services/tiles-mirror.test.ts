// The mirror's share of the event loop (services/tiles-mirror.ts): the service runs its mirror job
// inside `serve`, where a first mirror of a large log checks and writes for seconds; the mirror
// yields between slices of that work so requests are answered meanwhile. The CLI's behaviour
// (checks, forks, incremental runs) is test/cli/log-mirror.test.ts.
// Tier: quick
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { nodeSigner } from '../../src/services/key-backends/node-keys.ts';
import { mirrorTiles, slices, type MirrorSource } from '../../src/services/tiles-mirror.ts';
import { writeTilesFolder } from '../support/tiles-folder.ts';

const immediate = () => new Promise((resolve) => setImmediate(resolve));

describe('tiles mirror: time slices', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-mirror-slices-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a pause yields to the event loop once its slice is spent, and not before', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('immediate'));
    await slices(60_000)();
    order.push('long slice');
    await slices(0)();
    order.push('spent slice');
    await immediate();
    assert.deepEqual(order, ['long slice', 'immediate', 'spent slice']);
  });

  it('a mirror of 20,000 entries lets the event loop turn while it checks and writes, and is complete', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
    const signer = nodeSigner('slices', { algorithm: 'Ed25519', publicKey: raw }, privateKey);
    const source = path.join(dir, 'source');
    const { vkey } = await writeTilesFolder(source, { origin: 'slices.modelsign.test', size: 20_000, leaf: (i) => new TextEncoder().encode(`leaf ${i}`), signer });
    // Every read answers from memory at once (a settled promise): the only turns of the event loop
    // during the run are the mirror's own yields.
    const files = new Map<string, Uint8Array>();
    const read = (rel: string) => {
      if (!files.has(rel)) files.set(rel, new Uint8Array(readFileSync(path.join(source, rel))));
      return files.get(rel)!;
    };
    const memory: MirrorSource = { checkpoint: async () => new TextDecoder().decode(read('checkpoint')), tile: async (rel) => read(`tile/${rel}`) };
    for (const rel of ['checkpoint', 'tile/0/000']) read(rel);

    let turns = 0;
    let running = true;
    const tick = () => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    // 20,000 leaves and 19,890 nodes hashed, 159 files written: far more than one 5 ms slice.
    const result = await mirrorTiles(path.join(dir, 'mirror'), memory, vkey);
    running = false;
    assert.equal(result.size, 20_000);
    assert.equal(result.files, 159);
    assert.ok(turns > 1, `the event loop turned ${turns} times during the mirror`);
  });
});
