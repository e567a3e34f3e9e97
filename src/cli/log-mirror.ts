// `modelsign log mirror --out DIR`: a copy of a C2SP tlog-tiles log in a folder any web server or
// object store can serve (README, "Transparency log"), made incrementally and checked before it is
// written: the checkpoint against the pinned verifier key, every new hash tile against the tiles
// below it (down to the leaf hashes of the entry bundles), the tree's root against the checkpoint,
// and the previous mirrored checkpoint's root against the same tiles (a log that rewrote what was
// mirrored is a fork: exit 9, nothing written). Full tiles are written once (temp file + rename),
// partials for the new size, and the checkpoint last, so a reader never sees a checkpoint whose
// tiles are missing.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { clientEnv } from '../config.ts';
import { equalBytes } from '../core/bytes.ts';
import { parseCheckpoint, type Checkpoint } from '../core/tlog/checkpoint.ts';
import { RFC6962 } from '../core/tlog/hash.ts';
import { verifyCheckpoint } from '../core/tlog/log-note.ts';
import { rangeHash, type NodeLookup } from '../core/tlog/proof-build.ts';
import { parseSignedNote } from '../core/tlog/signed-note.ts';
import { nodeFromTile, tileSpanOf } from '../core/tlog/tile-math.ts';
import { formatTilePath, TILE_WIDTH, type TileAddress } from '../core/tlog/tile-path.ts';
import { TlogError } from '../core/tlog/tlog-error.ts';
import { NOTE_TYPE, parseVkey } from '../core/tlog/vkey.ts';
import { rangeNodes } from '../core/tlog/tree-math.ts';
import { parse } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { serverUrl } from './http.ts';

const USAGE = `Usage: modelsign log mirror --out DIR [--server URL | --from URL] [--vkey VKEY]

Copies a C2SP tlog-tiles log into DIR (checkpoint, tile/..., tile/entries/...), incrementally: tiles
already there are kept, new ones fetched, each checked (the checkpoint's signature, every new tile
against the tiles below it and the leaf data, the root against the checkpoint, and the previously
mirrored checkpoint against the same tiles) before anything is written; the checkpoint is written
last. --server URL mirrors a modelsign service (its /v1/log); --from URL any tiles log (the prefix
under which checkpoint and tile/ are). The verifier key is pinned in DIR/vkey on the first run:
--vkey gives it (needed with --from), otherwise the service's GET /v1/log/vkey is trusted once.
Exit codes: 0 mirrored; 9 the log rewrote or dropped what was mirrored (nothing written); 3 the
checkpoint is not signed by the pinned key; 1 a tile does not match the log; 5 the log could not be
read; 4 DIR could not be written; 2 usage.`;

const hashTile = (level: number, index: number, width?: number): TileAddress => ({ kind: 'hash', level, index, width });
const entryTile = (index: number, width?: number): TileAddress => ({ kind: 'entries', level: 0, index, width });

/** Every tile and entry bundle of a tree of `size` leaves: full ones, and the partials of its right edge. */
export function tilesOf(size: number): { full: TileAddress[]; partial: TileAddress[] } {
  const full: TileAddress[] = [];
  const partial: TileAddress[] = [];
  for (let level = 0; ; level++) {
    const count = Math.floor(size / TILE_WIDTH ** level);
    if (count === 0) break;
    for (let i = 0; i < Math.floor(count / TILE_WIDTH); i++) full.push(hashTile(level, i));
    if (count % TILE_WIDTH) partial.push(hashTile(level, Math.floor(count / TILE_WIDTH), count % TILE_WIDTH));
  }
  for (let i = 0; i < Math.floor(size / TILE_WIDTH); i++) full.push(entryTile(i));
  if (size % TILE_WIDTH) partial.push(entryTile(Math.floor(size / TILE_WIDTH), size % TILE_WIDTH));
  return { full, partial };
}

/** The leaf data of an entry bundle: big-endian uint16-length-prefixed entries. */
function entriesOf(bundle: Uint8Array, what: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bundle.length; ) {
    if (at + 2 > bundle.length) throw new CliFailure(EXIT.tampered, `${what} ends inside an entry length`);
    const length = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + length > bundle.length) throw new CliFailure(EXIT.tampered, `${what} ends inside an entry`);
    out.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return out;
}

async function fetchBytes(base: string, rel: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(`${base}/${rel}`, { signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    throw new CliFailure(EXIT.service, `cannot read ${base}/${rel}: ${(err as Error).message}`);
  }
  if (res.status !== 200) throw new CliFailure(EXIT.service, `${base}/${rel} answered ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function writeOnce(file: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new CliFailure(EXIT.io, `cannot write ${file}: ${(err as Error).message}`);
  }
}

export async function logMirror(args: string[]): Promise<number> {
  const { values } = parse(args, { out: { type: 'string' }, server: { type: 'string' }, from: { type: 'string' }, vkey: { type: 'string' } }, USAGE);
  if (!values.out) throw new CliFailure(EXIT.usage, `give --out DIR\n\n${USAGE}`);
  if (values.server && values.from) throw new CliFailure(EXIT.usage, 'give --server or --from, not both');
  const server = values.from ? undefined : serverUrl(values.server ?? clientEnv().server).href.replace(/\/$/, '');
  const base = (values.from ?? `${server}/v1/log`).replace(/\/$/, '');
  const dir = values.out;
  const started = performance.now();

  // The verifier key: pinned in the mirror on the first run.
  const pinnedFile = path.join(dir, 'vkey');
  const pinned = existsSync(pinnedFile) ? (await readFile(pinnedFile, 'utf8')).trim() : undefined;
  if (pinned && values.vkey && values.vkey !== pinned) throw new CliFailure(EXIT.usage, `${dir} mirrors the log of ${pinned.split('+')[0]} with another key (${pinnedFile}); use another folder`);
  let vkeyText = pinned ?? values.vkey;
  if (!vkeyText) {
    if (!server) throw new CliFailure(EXIT.usage, '--from needs --vkey (the log\'s verifier key) on the first run');
    vkeyText = new TextDecoder().decode(await fetchBytes(`${server}/v1/log`, 'vkey')).trim();
    process.stderr.write(`pinned the log key ${vkeyText} (from ${server}/v1/log/vkey) in ${pinnedFile}\n`);
  }
  let vkey;
  try {
    vkey = parseVkey(vkeyText);
  } catch (err) {
    throw new CliFailure(EXIT.usage, `${(err as Error).message}`);
  }
  if (vkey.type !== NOTE_TYPE.ed25519) throw new CliFailure(EXIT.usage, 'the log\'s verifier key must be an Ed25519 (type 0x01) note key');

  const note = new TextDecoder().decode(await fetchBytes(base, 'checkpoint'));
  let checkpoint: Checkpoint;
  try {
    checkpoint = verifyCheckpoint(note, { algorithm: 'Ed25519', publicKey: vkey.publicKey });
  } catch (err) {
    throw new CliFailure(EXIT.untrusted, `${base}/checkpoint is not signed by ${vkey.name}'s pinned key: ${(err as Error).message}`);
  }
  const previousFile = path.join(dir, 'checkpoint');
  const previous = existsSync(previousFile) ? parseCheckpoint(parseSignedNote(await readFile(previousFile, 'utf8')).text) : undefined;
  if (previous && previous.origin !== checkpoint.origin) throw new CliFailure(EXIT.usage, `${dir} mirrors ${previous.origin}, not ${checkpoint.origin}`);
  if (previous && checkpoint.size < previous.size) throw new CliFailure(EXIT.history, `rollback: the log's checkpoint has ${checkpoint.size} entries, the mirror already holds ${previous.size}; nothing written`);

  // Fetch what is not mirrored yet: full tiles once, the partials of this size.
  const { full, partial } = tilesOf(checkpoint.size);
  const fetched = new Map<string, { address: TileAddress; bytes: Uint8Array }>();
  const local = async (rel: string) => (existsSync(path.join(dir, 'tile', rel)) ? new Uint8Array(await readFile(path.join(dir, 'tile', rel))) : undefined);
  for (const t of [...full, ...partial]) {
    const rel = formatTilePath(t);
    if (t.width === undefined && existsSync(path.join(dir, 'tile', rel))) continue;
    fetched.set(rel, { address: t, bytes: await fetchBytes(base, `tile/${rel}`) });
  }
  const tile = async (t: TileAddress): Promise<Uint8Array | undefined> => fetched.get(formatTilePath(t))?.bytes ?? (await local(formatTilePath(t)));

  // A hash tile of level L and index n, full or the partial of this size (or the previous one's).
  const hashTileAt = async (level: number, index: number): Promise<Uint8Array | undefined> => {
    const whole = await tile(hashTile(level, index));
    if (whole) return whole;
    for (const size of [checkpoint.size, previous?.size]) {
      if (size === undefined) continue;
      const count = Math.floor(size / TILE_WIDTH ** level);
      if (Math.floor(count / TILE_WIDTH) === index && count % TILE_WIDTH) return tile(hashTile(level, index, count % TILE_WIDTH));
    }
    return undefined;
  };
  const cache = new Map<string, Uint8Array>();
  const node: (level: number, index: number) => Promise<Uint8Array | undefined> = async (level, index) => {
    const span = tileSpanOf({ level, index });
    const key = `${span.level}/${span.index}`;
    let t = cache.get(key);
    if (!t) {
      t = await hashTileAt(span.level, span.index);
      if (!t) return undefined;
      cache.set(key, t);
    }
    return (span.start + span.count) * 32 <= t.length ? nodeFromTile(t, span, RFC6962) : undefined;
  };
  const rootAt = async (size: number): Promise<Uint8Array> => {
    if (size === 0) return RFC6962.emptyRoot();
    const ids = rangeNodes(0, size);
    const found = new Map<string, Uint8Array>();
    for (const id of ids) {
      const h = await node(id.level, id.index);
      if (h) found.set(`${id.level}/${id.index}`, h);
    }
    const lookup: NodeLookup = (id) => found.get(`${id.level}/${id.index}`);
    try {
      return rangeHash([0, size], lookup, RFC6962);
    } catch (err) {
      if (err instanceof TlogError) throw new CliFailure(EXIT.tampered, `the tiles do not hold the tree of size ${size}: ${err.message}`);
      throw err;
    }
  };

  // Every new tile against what is below it.
  for (const [rel, { address: t, bytes }] of fetched) {
    const width = t.width ?? TILE_WIDTH;
    if (t.kind === 'entries') {
      const leaves = entriesOf(bytes, `tile/${rel}`);
      const below = await hashTileAt(0, t.index);
      if (leaves.length !== width || !below) throw new CliFailure(EXIT.tampered, `tile/${rel} does not hold ${width} entries`);
      leaves.forEach((leaf, i) => {
        if (!equalBytes(RFC6962.hashLeaf(leaf), below.subarray(i * 32, i * 32 + 32))) throw new CliFailure(EXIT.tampered, `entry ${t.index * TILE_WIDTH + i} of tile/${rel} does not hash to its leaf hash in tile/0/...`);
      });
      continue;
    }
    if (bytes.length !== width * 32) throw new CliFailure(EXIT.tampered, `tile/${rel} is ${bytes.length} bytes, not ${width * 32}`);
    if (t.level === 0) continue; // checked by the entry bundles and the root
    for (let i = 0; i < width; i++) {
      const expected = await node(t.level * 8, t.index * TILE_WIDTH + i);
      const lower = await hashTileAt(t.level - 1, t.index * TILE_WIDTH + i);
      if (!lower || lower.length !== TILE_WIDTH * 32) throw new CliFailure(EXIT.tampered, `tile/${rel} has no full tile below its hash ${i}`);
      const folded = nodeFromTile(lower, { level: t.level - 1, index: t.index * TILE_WIDTH + i, start: 0, count: TILE_WIDTH }, RFC6962);
      if (!expected || !equalBytes(expected, folded)) throw new CliFailure(EXIT.tampered, `hash ${i} of tile/${rel} is not the root of the tile below it`);
    }
  }
  if (!equalBytes(await rootAt(checkpoint.size), checkpoint.rootHash)) throw new CliFailure(EXIT.tampered, `the tiles of size ${checkpoint.size} do not lead to the checkpoint's root hash`);
  if (previous && !equalBytes(await rootAt(previous.size), previous.rootHash)) {
    throw new CliFailure(EXIT.history, `fork: the log's tiles give another root at size ${previous.size} than the checkpoint this mirror holds; nothing written`);
  }

  // Tiles first, the checkpoint last.
  let bytes = 0;
  for (const [rel, { bytes: data }] of fetched) {
    await writeOnce(path.join(dir, 'tile', rel), data);
    bytes += data.length;
  }
  if (!pinned) await writeOnce(pinnedFile, `${vkeyText}\n`);
  await writeOnce(previousFile, note);
  process.stdout.write(`mirrored ${checkpoint.origin} at size ${checkpoint.size}${previous ? ` (was ${previous.size})` : ''}: ${fetched.size} files written (${Math.round(bytes / 1024)} KiB) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return EXIT.ok;
}
