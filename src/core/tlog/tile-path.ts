// C2SP tlog-tiles resource paths, below `<prefix>/tile/`: `<L>/<N>[.p/<W>]` for hash tiles and
// `entries/<N>[.p/<W>]` for entry bundles. N is written in zero-padded groups of three digits,
// every group but the last prefixed with `x` (1234067 → x001/x234/067); L is 0–63 and W 1–255,
// both in decimal without leading zeroes. A path is accepted only in its one canonical spelling,
// so one tile has one URL (what a cache keys on).
import { TlogError } from './tlog-error.ts';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

export interface TileAddress {
  /** 'hash' tiles hold level-8L hashes; 'entries' bundles hold leaf data. */
  kind: 'hash' | 'entries';
  /** The tile level L (0 for entry bundles). */
  level: number;
  /** The tile index N. */
  index: number;
  /** The width of a partial tile, or undefined for a full one (256). */
  width: number | undefined;
}

function refuse(message: string): never {
  throw new TlogError('tile_path_invalid', message);
}

const SMALL = /^(0|[1-9][0-9]*)$/;

export function formatTileIndex(n: number): string {
  let digits = String(n).padStart(3, '0');
  const groups: string[] = [];
  while (digits.length > 3) {
    groups.unshift(digits.slice(-3));
    digits = digits.slice(0, -3);
  }
  groups.unshift(digits.padStart(3, '0'));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

export function formatTilePath(t: TileAddress): string {
  const head = t.kind === 'entries' ? 'entries' : String(t.level);
  return `${head}/${formatTileIndex(t.index)}${t.width === undefined ? '' : `.p/${t.width}`}`;
}

/** Parses the part of a tile URL after `tile/`; throws TlogError('tile_path_invalid'). */
export function parseTilePath(path: string): TileAddress {
  if (typeof path !== 'string' || path.length > 120) refuse('a tile path is at most 120 characters');
  const parts = path.split('/');
  const head = parts.shift()!;
  let kind: TileAddress['kind'] = 'hash';
  let level = 0;
  if (head === 'entries') kind = 'entries';
  else if (SMALL.test(head) && Number(head) <= 63) level = Number(head);
  else refuse(`the tile level ${JSON.stringify(head.slice(0, 20))} is not entries or a decimal 0 to 63 without leading zeroes`);
  let width: number | undefined;
  if (parts.length >= 2 && parts[parts.length - 2]!.endsWith('.p')) {
    const w = parts.pop()!;
    if (!SMALL.test(w) || Number(w) < 1 || Number(w) > 255) refuse(`the partial width ${JSON.stringify(w.slice(0, 20))} is not a decimal 1 to 255 without leading zeroes`);
    width = Number(w);
    parts[parts.length - 1] = parts[parts.length - 1]!.slice(0, -2);
  }
  if (parts.length === 0 || parts.some((g, i) => !(i < parts.length - 1 ? /^x[0-9]{3}$/ : /^[0-9]{3}$/).test(g))) {
    refuse(`the tile index ${JSON.stringify(parts.join('/').slice(0, 40))} is not written as x001/x234/067`);
  }
  const index = Number(parts.map((g) => g.replace('x', '')).join(''));
  if (!Number.isSafeInteger(index) || formatTileIndex(index) !== parts.join('/')) refuse(`the tile index ${JSON.stringify(parts.join('/').slice(0, 40))} is not in its canonical form (no leading zero groups)`);
  return { kind, level, index, width };
}

/**
 * The leaves a tile's last hash reaches (exclusive): the tree size the tile needs. Undefined when
 * that is beyond any size this service counts (so beyond every tree).
 */
export function tileEnd(t: TileAddress): number | undefined {
  const width = t.width ?? TILE_WIDTH;
  const end = (t.index * TILE_WIDTH + width) * TILE_WIDTH ** t.level;
  return Number.isSafeInteger(end) ? end : undefined;
}

/** For a partial tile: the tree sizes whose partial it is, [from, to). */
export function partialSizes(t: TileAddress & { width: number }): { from: number; to: number } | undefined {
  const unit = TILE_WIDTH ** t.level;
  const from = (t.index * TILE_WIDTH + t.width) * unit;
  const to = from + unit;
  return Number.isSafeInteger(to) ? { from, to } : undefined;
}

/** Every tile and entry bundle of a tree of `size` leaves: the full ones, and the partials of its right edge. */
export function tilesOfTree(size: number): { full: TileAddress[]; partial: TileAddress[] } {
  const full: TileAddress[] = [];
  const partial: TileAddress[] = [];
  for (let level = 0; ; level++) {
    const count = Math.floor(size / TILE_WIDTH ** level);
    if (count === 0) break;
    for (let i = 0; i < Math.floor(count / TILE_WIDTH); i++) full.push({ kind: 'hash', level, index: i, width: undefined });
    if (count % TILE_WIDTH) partial.push({ kind: 'hash', level, index: Math.floor(count / TILE_WIDTH), width: count % TILE_WIDTH });
  }
  for (let i = 0; i < Math.floor(size / TILE_WIDTH); i++) full.push({ kind: 'entries', level: 0, index: i, width: undefined });
  if (size % TILE_WIDTH) partial.push({ kind: 'entries', level: 0, index: Math.floor(size / TILE_WIDTH), width: size % TILE_WIDTH });
  return { full, partial };
}

/** The entry bundles holding leaves [from, to) of a tree of `to` leaves: full ones, and the partial of its edge. */
export function entryBundlesOf(from: number, to: number): TileAddress[] {
  const out: TileAddress[] = [];
  for (let i = Math.floor(from / TILE_WIDTH); i * TILE_WIDTH < to; i++) {
    const width = Math.min(TILE_WIDTH, to - i * TILE_WIDTH);
    out.push({ kind: 'entries', level: 0, index: i, width: width === TILE_WIDTH ? undefined : width });
  }
  return out;
}
