// Tile paths exactly as C2SP tlog-tiles (and Go's sumdb/tlog, whose encoding of N it shares)
// write them: canonical spellings parse and print back, every other spelling is refused.
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTileIndex, formatTilePath, parseTilePath, partialSizes, tileEnd } from '../../../src/core/tlog/tile-path.ts';
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
