// A copy of a C2SP tlog-tiles log in a folder any web server or object store can serve (README,
// "Transparency log"), made incrementally and checked before it is written: the checkpoint
// against the log's key, every new hash tile against the tiles below it (down to the leaf hashes
// of the entry bundles), the tree's root against the checkpoint, and the previously mirrored
// checkpoint's root against the same tiles (a log that rewrote what was mirrored is a fork:
// nothing is written). A tile's content is fixed by its address (a partial's by its width), so a
// file present is kept and only missing ones are read; files are written with temp file and
// rename, the checkpoint last, so a reader never sees a checkpoint whose tiles are missing. With
// `entries`, each entry bundle gets a side file (core/tlog/entry-side-file.ts) whose entries are
// checked against the bundle's leaf data first (from a modelsign service, or copied from another
// mirror's side files). Used by `log mirror` (tiles over HTTP) and by the
// service's mirror job (tiles read in process).
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { equalBytes } from '../core/bytes.ts';
import { parseCheckpoint, type Checkpoint } from '../core/tlog/checkpoint.ts';
import { parseEntryBundle } from '../core/tlog/entry-bundle.ts';
import { formatSideFile, sideEntryProblem, sideFilePath, type SideEntry } from '../core/tlog/entry-side-file.ts';
import { verifyCheckpoint } from '../core/tlog/log-note.ts';
import { rangeHash, type NodeLookup } from '../core/tlog/proof-build.ts';
import { parseSignedNote } from '../core/tlog/signed-note.ts';
import { nodeFromTile, tileSpanOf } from '../core/tlog/tile-math.ts';
import { formatTilePath, TILE_WIDTH, tilesOfTree, type TileAddress } from '../core/tlog/tile-path.ts';
import { TlogError } from '../core/tlog/tlog-error.ts';
import { rangeNodes } from '../core/tlog/tree-math.ts';
import { NOTE_TYPE, parseVkey, type Vkey } from '../core/tlog/vkey.ts';
import { nodeLogHasher } from './support/node-hasher.ts';

/** What went wrong, for the caller to map (the CLI to exit codes). */
export type MirrorFailure = 'fork' | 'rollback' | 'tampered' | 'untrusted' | 'source' | 'io' | 'usage';

export class MirrorError extends Error {
  override readonly name = 'MirrorError';
  constructor(
    readonly kind: MirrorFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Where a mirror reads the log. Failures to read are MirrorError('source'). */
export interface MirrorSource {
  /** The checkpoint note. */
  checkpoint(): Promise<string>;
  /** The resource at `tile/<rel>`. */
  tile(rel: string): Promise<Uint8Array>;
  /**
   * For a modelsign log: the side entries of one entry bundle (leaves [start, end)), each with the
   * leaf data the source holds for it (none from another mirror's side file, which has none), or
   * undefined when the source has no side file for it.
   */
  entries?(bundle: TileAddress, start: number, end: number): Promise<{ data?: Uint8Array; side: SideEntry }[] | undefined>;
}

export interface MirrorResult {
  origin: string;
  size: number;
  previousSize: number | undefined;
  files: number;
  bytes: number;
  ms: number;
}

/** Reads in flight at once: enough to hide a loopback or LAN round trip, few enough for any static host. */
export const MIRROR_CONCURRENCY = 16;

/** Runs `fn` over `items`, `limit` at a time, in order of start; the first failure stops the rest. */
export async function inPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A log's verifier key: an Ed25519 (0x01) note key; MirrorError('usage') otherwise. */
export function logVkey(text: string): Vkey {
  let vkey: Vkey;
  try {
    vkey = parseVkey(text.trim());
  } catch (err) {
    throw new MirrorError('usage', (err as Error).message);
  }
  if (vkey.type !== NOTE_TYPE.ed25519) throw new MirrorError('usage', 'the log\'s verifier key must be an Ed25519 (type 0x01) note key');
  return vkey;
}

/** The checkpoint of a note this code wrote and verified before. */
export const checkpointOfNote = (note: string): Checkpoint => parseCheckpoint(parseSignedNote(note).text);

const hashTile = (level: number, index: number, width?: number): TileAddress => ({ kind: 'hash', level, index, width });

function entriesOf(bundle: Uint8Array, what: string): Uint8Array[] {
  try {
    return parseEntryBundle(bundle);
  } catch (err) {
    if (err instanceof TlogError) throw new MirrorError('tampered', `${what}: ${err.message}`);
    throw err;
  }
}

/**
 * Writes each file with a temp file and rename, in order, with synchronous calls: through the
 * thread pool, 16 at a time, the 7,831 files of a 1,000,000-entry log took 0.86-0.93 s (each file
 * four pool round trips, the pool's threads contending for one folder's lock), against 0.41 s in
 * a loop on one thread and 0.28 s for `cp -r` of them (paired runs after a `sync`). A yield every
 * few milliseconds keeps a serving process's event loop answering (the mirror job runs in `serve`).
 */
export async function writeMirrorFiles(files: Iterable<readonly [string, Uint8Array | string]>): Promise<void> {
  const made = new Set<string>();
  const pause = slices();
  for (const [file, bytes] of files) {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      const folder = path.dirname(file);
      if (!made.has(folder)) {
        mkdirSync(folder, { recursive: true });
        made.add(folder);
      }
      writeFileSync(tmp, bytes);
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new MirrorError('io', `cannot write ${file}: ${(err as Error).message}`);
    }
    await pause();
  }
}

/**
 * The files under `root`, as `/`-separated paths relative to it (none when it does not exist).
 * One listing per folder: a 1,000,000-entry mirror holds 7,831 tiles in 15 folders, and a stat per
 * tile took three times as long (20 ms against 7 ms) on every run of the mirror job.
 */
function filesUnder(root: string): Set<string> {
  const out = new Set<string>();
  const walk = (folder: string, prefix: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(folder, entry.name), `${prefix}${entry.name}/`);
      else out.add(`${prefix}${entry.name}`);
    }
  };
  if (existsSync(root)) walk(root, '');
  return out;
}

/** The longest a mirror holds the event loop between two yields. */
export const SLICE_MS = 5;

/**
 * A pause to call between two units of synchronous work (a file written, a tile checked): it yields
 * to the event loop once `ms` have passed since the last yield. Inside `serve`, a first mirror of a
 * 1,000,000-entry log checks and writes for about 2 s; without yields, no request would be
 * answered meanwhile. (An `await` of a settled promise does not yield: I/O waits for a macrotask.)
 */
export function slices(ms = SLICE_MS): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < ms) return;
    await new Promise((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}

/**
 * Brings the mirror in `dir` up to the source's checkpoint. `vkey` is the log's note key; it is
 * pinned in `dir/vkey` on the first run, and a mirror pinned to another key is refused.
 */
export async function mirrorTiles(dir: string, source: MirrorSource, vkeyText: string): Promise<MirrorResult> {
  const started = performance.now();
  const pinnedFile = path.join(dir, 'vkey');
  const pinned = existsSync(pinnedFile) ? (await readFile(pinnedFile, 'utf8')).trim() : undefined;
  if (pinned && pinned !== vkeyText.trim()) throw new MirrorError('usage', `${dir} mirrors the log of ${pinned.split('+')[0]} with another key (${pinnedFile}); use another folder`);
  const vkey = logVkey(vkeyText);

  const note = await source.checkpoint();
  let checkpoint: Checkpoint;
  try {
    checkpoint = verifyCheckpoint(note, { algorithm: 'Ed25519', publicKey: vkey.publicKey });
  } catch (err) {
    throw new MirrorError('untrusted', `the checkpoint is not signed by ${vkey.name}'s key: ${(err as Error).message}`);
  }
  const previousFile = path.join(dir, 'checkpoint');
  const previous = existsSync(previousFile) ? checkpointOfNote(await readFile(previousFile, 'utf8')) : undefined;
  if (previous && previous.origin !== checkpoint.origin) throw new MirrorError('usage', `${dir} mirrors ${previous.origin}, not ${checkpoint.origin}`);
  if (previous && checkpoint.size < previous.size) throw new MirrorError('rollback', `rollback: the log's checkpoint has ${checkpoint.size} entries, the mirror already holds ${previous.size}; nothing written`);

  // Read what is not mirrored yet.
  const { full, partial } = tilesOfTree(checkpoint.size);
  const present = filesUnder(path.join(dir, 'tile'));
  const wanted = [...full, ...partial].filter((t) => !present.has(formatTilePath(t)));
  const fetched = new Map<string, { address: TileAddress; bytes: Uint8Array }>();
  await inPool(wanted, MIRROR_CONCURRENCY, async (t) => {
    const rel = formatTilePath(t);
    fetched.set(rel, { address: t, bytes: await source.tile(rel) });
  });
  const local = async (rel: string) => (present.has(rel) ? new Uint8Array(await readFile(path.join(dir, 'tile', rel))) : undefined);
  const tile = async (t: TileAddress): Promise<Uint8Array | undefined> => fetched.get(formatTilePath(t))?.bytes ?? (await local(formatTilePath(t)));

  // The partial tile of level L at index n of a tree of `size`, if it has one there.
  const partialAt = (size: number, level: number, index: number): TileAddress | undefined => {
    const count = Math.floor(size / TILE_WIDTH ** level);
    return Math.floor(count / TILE_WIDTH) === index && count % TILE_WIDTH ? hashTile(level, index, count % TILE_WIDTH) : undefined;
  };
  // A hash tile of level L and index n, full or the partial of this size (or the previous one's).
  const hashTileAt = async (level: number, index: number): Promise<Uint8Array | undefined> => {
    const whole = await tile(hashTile(level, index));
    if (whole) return whole;
    for (const size of [checkpoint.size, previous?.size]) {
      const p = size === undefined ? undefined : partialAt(size, level, index);
      if (p) return tile(p);
    }
    return undefined;
  };
  const cache = new Map<string, Uint8Array>();
  const node = async (level: number, index: number): Promise<Uint8Array | undefined> => {
    const span = tileSpanOf({ level, index });
    const key = `${span.level}/${span.index}`;
    let t = cache.get(key);
    if (!t) {
      t = await hashTileAt(span.level, span.index);
      if (!t) return undefined;
      cache.set(key, t);
    }
    return (span.start + span.count) * 32 <= t.length ? nodeFromTile(t, span, nodeLogHasher) : undefined;
  };
  const rootAt = async (size: number): Promise<Uint8Array> => {
    if (size === 0) return nodeLogHasher.emptyRoot();
    const found = new Map<string, Uint8Array>();
    for (const id of rangeNodes(0, size)) {
      const h = await node(id.level, id.index);
      if (h) found.set(`${id.level}/${id.index}`, h);
    }
    const lookup: NodeLookup = (id) => found.get(`${id.level}/${id.index}`);
    try {
      return rangeHash([0, size], lookup, nodeLogHasher);
    } catch (err) {
      if (err instanceof TlogError) throw new MirrorError('tampered', `the tiles do not hold the tree of size ${size}: ${err.message}`);
      throw err;
    }
  };

  // Every new tile against what is below it.
  const pause = slices();
  for (const [rel, { address: t, bytes }] of fetched) {
    await pause();
    const width = t.width ?? TILE_WIDTH;
    if (t.kind === 'entries') {
      const leaves = entriesOf(bytes, `tile/${rel}`);
      const below = await hashTileAt(0, t.index);
      if (leaves.length !== width || !below) throw new MirrorError('tampered', `tile/${rel} does not hold ${width} entries`);
      leaves.forEach((leaf, i) => {
        if (!equalBytes(nodeLogHasher.hashLeaf(leaf), below.subarray(i * 32, i * 32 + 32))) throw new MirrorError('tampered', `entry ${t.index * TILE_WIDTH + i} of tile/${rel} does not hash to its leaf hash in tile/0/...`);
      });
      continue;
    }
    if (bytes.length !== width * 32) throw new MirrorError('tampered', `tile/${rel} is ${bytes.length} bytes, not ${width * 32}`);
    if (t.level === 0) continue; // checked by the entry bundles and the root
    // Hashes the previous run's partial at this place already held were checked then, against
    // full tiles that cannot have changed since.
    const before = previous ? partialAt(previous.size, t.level, t.index) : undefined;
    const prior = before ? await local(formatTilePath(before)) : undefined;
    for (let i = 0; i < width; i++) {
      if (prior && (i + 1) * 32 <= prior.length && equalBytes(prior.subarray(i * 32, i * 32 + 32), bytes.subarray(i * 32, i * 32 + 32))) continue;
      const expected = await node(t.level * 8, t.index * TILE_WIDTH + i);
      const lower = await hashTileAt(t.level - 1, t.index * TILE_WIDTH + i);
      if (!lower || lower.length !== TILE_WIDTH * 32) throw new MirrorError('tampered', `tile/${rel} has no full tile below its hash ${i}`);
      const folded = nodeFromTile(lower, { level: t.level - 1, index: t.index * TILE_WIDTH + i, start: 0, count: TILE_WIDTH }, nodeLogHasher);
      if (!expected || !equalBytes(expected, folded)) throw new MirrorError('tampered', `hash ${i} of tile/${rel} is not the root of the tile below it`);
    }
  }
  // Of a modelsign log, every new bundle's side file against the bundle.
  const sideFiles = new Map<string, string>();
  const readEntries = source.entries?.bind(source);
  if (readEntries) {
    // Side files come with their bundles: only the bundles read in this run are asked for one (a
    // log without side files would otherwise be asked again for every bundle on every run).
    const bundles = [...fetched.values()].map((f) => f.address).filter((t) => t.kind === 'entries');
    await inPool(bundles, 4, async (t) => {
      const leaves = entriesOf((await tile(t))!, `tile/${formatTilePath(t)}`);
      const first = t.index * TILE_WIDTH;
      const served = await readEntries(t, first, first + leaves.length);
      if (!served) return;
      if (served.length !== leaves.length) throw new MirrorError('source', `entries [${first}, ${first + leaves.length}) were not all served`);
      served.forEach(({ data, side }, i) => {
        if (data && !equalBytes(data, leaves[i]!)) throw new MirrorError('tampered', `entry ${first + i}: the entries served hold other leaf data than tile/${formatTilePath(t)}`);
        const problem = sideEntryProblem(first + i, leaves[i]!, side, nodeLogHasher.sha256);
        if (problem) throw new MirrorError('tampered', problem);
      });
      sideFiles.set(sideFilePath(t), formatSideFile(served.map((e) => e.side)));
    });
  }
  if (!equalBytes(await rootAt(checkpoint.size), checkpoint.rootHash)) throw new MirrorError('tampered', `the tiles of size ${checkpoint.size} do not lead to the checkpoint's root hash`);
  if (previous && !equalBytes(await rootAt(previous.size), previous.rootHash)) {
    throw new MirrorError('fork', `fork: the log's tiles give another root at size ${previous.size} than the checkpoint this mirror holds; nothing written`);
  }

  // Tiles and side files first, the checkpoint last.
  const writes = [...[...fetched].map(([rel, { bytes: data }]) => [path.join('tile', rel), data] as const), ...sideFiles];
  await writeMirrorFiles(writes.map(([rel, data]) => [path.join(dir, rel), data] as const));
  const bytes = writes.reduce((sum, [, data]) => sum + data.length, 0);
  await writeMirrorFiles([...(pinned ? [] : [[pinnedFile, `${vkeyText.trim()}\n`] as const]), [previousFile, note] as const]);
  return { origin: checkpoint.origin, size: checkpoint.size, previousSize: previous?.size, files: writes.length, bytes, ms: performance.now() - started };
}
