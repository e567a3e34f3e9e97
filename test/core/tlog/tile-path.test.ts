// Tile paths exactly as C2SP tlog-tiles (and Go's sumdb/tlog, whose encoding of N it shares)
// write them: canonical spellings parse and print back, every other spelling is refused.
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryBundlesOf, formatTileIndex, formatTilePath, parseTilePath, partialSizes, tileEnd, tilesOfTree } from '../../../src/core/tlog/tile-path.ts';
import { parseEntryBundle } from '../../../src/core/tlog/entry-bundle.ts';
import { TlogError } from '../../../src/core/tlog/tlog-error.ts';

describe('tile paths (C2SP tlog-tiles)', () => {
  it('writes N in groups of three digits, all but the last prefixed x', () => {
    assert.equal(formatTileIndex(1234067), 'x001/x234/067');
    assert.equal(formatTileIndex(0), '000');
    assert.equal(formatTileIndex(5), '005');
    assert.equal(formatTileIndex(999), '999');
    assert.equal(formatTileIndex(1000), 'x001/000');
  });

  it('parses the spec\'s examples and prints them back', () => {
    for (const path of ['0/x001/x234/067', '0/x001/x234/067.p/112', '1/000', '2/000.p/1', 'entries/x001/x234/067', 'entries/000.p/255', '63/000']) {
      assert.equal(formatTilePath(parseTilePath(path)), path);
    }
    assert.deepEqual(parseTilePath('0/x001/x234/067.p/112'), { kind: 'hash', level: 0, index: 1234067, width: 112 });
    assert.deepEqual(parseTilePath('entries/273'), { kind: 'entries', level: 0, index: 273, width: undefined });
  });

  const bad: [string, RegExp][] = [
    ['00/000', /level/],
    ['64/000', /level/],
    ['-1/000', /level/],
    ['x/000', /level/],
    ['0/00', /x001\/x234\/067/],
    ['0/0000', /x001\/x234\/067/],
    ['0/x000/005', /canonical/],
    ['0/001/002', /x001\/x234\/067/],
    ['0/x001', /x001\/x234\/067/],
    ['0/000.p/0', /partial width/],
    ['0/000.p/256', /partial width/],
    ['0/000.p/01', /partial width/],
    ['0/000.p', /x001\/x234\/067/],
    ['0/000.q/5', /x001\/x234\/067/],
    ['0/../000', /x001\/x234\/067/],
    ['0/000/', /x001\/x234\/067/],
    ['entries/000.p/5/6', /x001\/x234\/067/],
    ['', /level/],
    ['0/' + 'x000/'.repeat(30) + '001', /at most 120/],
  ];
  for (const [path, pattern] of bad) {
    it(`refuses ${JSON.stringify(path.slice(0, 30))}`, () => {
      assert.throws(() => parseTilePath(path), (err: unknown) => err instanceof TlogError && err.code === 'tile_path_invalid' && pattern.test(err.message));
    });
  }

  it('knows the tree size a tile needs, and the sizes a partial belongs to', () => {
    assert.equal(tileEnd(parseTilePath('0/273')), 274 * 256);
    assert.equal(tileEnd(parseTilePath('0/273.p/112')), 273 * 256 + 112);
    assert.equal(tileEnd(parseTilePath('1/000.p/17')), 17 * 256);
    assert.deepEqual(partialSizes({ kind: 'hash', level: 1, index: 0, width: 17 }), { from: 17 * 256, to: 18 * 256 });
    assert.deepEqual(partialSizes({ kind: 'entries', level: 0, index: 273, width: 112 }), { from: 70000, to: 70001 });
    assert.equal(tileEnd(parseTilePath('63/000')), undefined);
  });
});

describe('the tiles of a tree', () => {
  const paths = (ts: ReturnType<typeof entryBundlesOf>) => ts.map(formatTilePath);
  it('lists every full tile and the partials of the right edge, on every level', () => {
    assert.deepEqual(tilesOfTree(0), { full: [], partial: [] });
    const small = tilesOfTree(255);
    assert.deepEqual([paths(small.full), paths(small.partial)], [[], ['0/000.p/255', 'entries/000.p/255']]);
    const t = tilesOfTree(70_003);
    // 273 full level-0 tiles, 1/000, 273 full bundles; partials 0/273.p/115, 1/001.p/17, 2/000.p/1, entries/273.p/115.
    assert.equal(t.full.length, 273 + 1 + 273);
    assert.deepEqual(paths(t.partial), ['0/273.p/115', '1/001.p/17', '2/000.p/1', 'entries/273.p/115']);
    assert.deepEqual(paths(tilesOfTree(65_536).partial), ['2/000.p/1']);
  });

  it('names the entry bundles that hold a range of leaves, the last one the partial of the range\'s end', () => {
    assert.deepEqual(paths(entryBundlesOf(0, 0)), []);
    assert.deepEqual(paths(entryBundlesOf(270, 280)), ['entries/001.p/24']);
    assert.deepEqual(paths(entryBundlesOf(200, 600)), ['entries/000', 'entries/001', 'entries/002.p/88']);
    assert.deepEqual(paths(entryBundlesOf(512, 768)), ['entries/002']);
  });
});

describe('entry bundles', () => {
  it('splits a bundle into its entries (big-endian uint16 lengths), an empty entry and a 65,535-byte one included', () => {
    const big = new Uint8Array(65_535).fill(7);
    const bundle = new Uint8Array([0, 2, 1, 2, 0, 0, 0xff, 0xff, ...big]);
    assert.deepEqual(parseEntryBundle(bundle).map((e) => e.length), [2, 0, 65_535]);
    assert.deepEqual([...parseEntryBundle(bundle)[0]!], [1, 2]);
  });

  it('refuses a bundle cut inside a length or an entry', () => {
    for (const cut of [new Uint8Array([0]), new Uint8Array([0, 3, 1, 2]), new Uint8Array([0, 1, 9, 0])]) {
      assert.throws(() => parseEntryBundle(cut), (err: unknown) => err instanceof TlogError && err.code === 'bundle_malformed');
    }
  });
});

