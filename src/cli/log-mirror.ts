// `modelsign log mirror --out DIR`: a copy of a C2SP tlog-tiles log in a folder any web server or
// object store can serve (README, "Transparency log"), made incrementally and checked before it is
// written: the checkpoint against the pinned verifier key, every new hash tile against the tiles
// below it (down to the leaf hashes of the entry bundles), the tree's root against the checkpoint,
// and the previous mirrored checkpoint's root against the same tiles (a log that rewrote what was
// mirrored is a fork: exit 9, nothing written). Each tile is written once (temp file + rename), a
// partial too (its width fixes its content), and the checkpoint last, so a reader never sees a checkpoint whose
// tiles are missing. Mirroring a modelsign service (--server), each entry bundle gets a side file
// (cli/entry-side-file.ts) whose entries are checked against the bundle's leaf data first.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Wire } from '../api/wire.ts';
import { clientEnv } from '../config.ts';
import { equalBytes, fromBase64 } from '../core/bytes.ts';
import type { Checkpoint } from '../core/tlog/checkpoint.ts';
import { parseEntryBundle } from '../core/tlog/entry-bundle.ts';
import { rangeHash, type NodeLookup } from '../core/tlog/proof-build.ts';
import { nodeFromTile, tileSpanOf } from '../core/tlog/tile-math.ts';
import { formatTilePath, TILE_WIDTH, tilesOfTree, type TileAddress } from '../core/tlog/tile-path.ts';
import { TlogError } from '../core/tlog/tlog-error.ts';
import { rangeNodes } from '../core/tlog/tree-math.ts';
import { nodeLogHasher } from '../services/support/node-hasher.ts';
import { parse } from './args.ts';
import { formatSideFile, sideEntryProblem, sideFilePath } from './entry-side-file.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { fetchJson, serverUrl } from './http.ts';
import { checkpointOfNote, FETCH_CONCURRENCY, inPool, logVkey, TilesSource } from './tiles-source.ts';

const USAGE = `Usage: modelsign log mirror --out DIR [--server URL | --from URL] [--vkey VKEY]

Copies a C2SP tlog-tiles log into DIR (checkpoint, tile/..., tile/entries/...), incrementally: tiles
already there are kept, new ones fetched, each checked (the checkpoint's signature, every new tile
against the tiles below it and the leaf data, the root against the checkpoint, and the previously
mirrored checkpoint against the same tiles) before anything is written; the checkpoint is written
last. --server URL mirrors a modelsign service (its /v1/log), with a side file per entry bundle
(modelsign/entries/<N>[.p/<W>].json: each entry's release and signed payload, for log monitor
--tiles); --from URL any tiles log (the prefix under which checkpoint and tile/ are). The verifier
key is pinned in DIR/vkey on the first run: --vkey gives it (needed with --from), otherwise the
service's GET /v1/log/vkey is trusted once.
Exit codes: 0 mirrored; 9 the log rewrote or dropped what was mirrored (nothing written); 3 the
checkpoint is not signed by the pinned key; 1 a tile does not match the log; 5 the log could not be
read; 4 DIR could not be written; 2 usage.`;

const hashTile = (level: number, index: number, width?: number): TileAddress => ({ kind: 'hash', level, index, width });

/** The leaf data of an entry bundle; exit 1 when it is cut. */
function entriesOf(bundle: Uint8Array, what: string): Uint8Array[] {
  try {
    return parseEntryBundle(bundle);
  } catch (err) {
    if (err instanceof TlogError) throw new CliFailure(EXIT.tampered, `${what}: ${err.message}`);
    throw err;
  }
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

/** The entries [start, end) as the service serves them (pages of up to 1,000). */
async function servedEntries(server: string, start: number, end: number): Promise<Wire['LogEntries']['entries']> {
  const out: Wire['LogEntries']['entries'] = [];
  while (start + out.length < end) {
    const page = (await fetchJson(server, `/v1/log/entries?start=${start + out.length}&end=${end}`)) as Wire['LogEntries'];
    if (!Array.isArray(page.entries) || page.entries.length === 0) throw new CliFailure(EXIT.service, `the service served no entries from ${start + out.length}`);
    out.push(...page.entries);
  }
  return out;
}

export async function logMirror(args: string[]): Promise<number> {
  const { values } = parse(args, { out: { type: 'string' }, server: { type: 'string' }, from: { type: 'string' }, vkey: { type: 'string' } }, USAGE);
  if (!values.out) throw new CliFailure(EXIT.usage, `give --out DIR\n\n${USAGE}`);
  if (values.server && values.from) throw new CliFailure(EXIT.usage, 'give --server or --from, not both');
  const server = values.from ? undefined : serverUrl(values.server ?? clientEnv().server).href.replace(/\/$/, '');
  const source = new TilesSource((values.from ?? `${server}/v1/log`).replace(/\/$/, ''));
  const dir = values.out;
  const started = performance.now();

  // The verifier key: pinned in the mirror on the first run.
  const pinnedFile = path.join(dir, 'vkey');
  const pinned = existsSync(pinnedFile) ? (await readFile(pinnedFile, 'utf8')).trim() : undefined;
  if (pinned && values.vkey && values.vkey !== pinned) throw new CliFailure(EXIT.usage, `${dir} mirrors the log of ${pinned.split('+')[0]} with another key (${pinnedFile}); use another folder`);
  let vkeyText = pinned ?? values.vkey;
  if (!vkeyText) {
    if (!server) throw new CliFailure(EXIT.usage, '--from needs --vkey (the log\'s verifier key) on the first run');
    vkeyText = new TextDecoder().decode(await new TilesSource(`${server}/v1/log`).bytes('vkey')).trim();
    process.stderr.write(`pinned the log key ${vkeyText} (from ${server}/v1/log/vkey) in ${pinnedFile}\n`);
  }
  const vkey = logVkey(vkeyText);

  const { note, checkpoint } = await source.checkpoint(vkey);
  const previousFile = path.join(dir, 'checkpoint');
  const previous: Checkpoint | undefined = existsSync(previousFile) ? checkpointOfNote(await readFile(previousFile, 'utf8')) : undefined;
  if (previous && previous.origin !== checkpoint.origin) throw new CliFailure(EXIT.usage, `${dir} mirrors ${previous.origin}, not ${checkpoint.origin}`);
  if (previous && checkpoint.size < previous.size) throw new CliFailure(EXIT.history, `rollback: the log's checkpoint has ${checkpoint.size} entries, the mirror already holds ${previous.size}; nothing written`);

  // Fetch what is not mirrored yet. A partial's content is fixed by its width as a full tile's is,
  // so one already here (checked when it was written) is kept too.
  const { full, partial } = tilesOfTree(checkpoint.size);
  const wanted = [...full, ...partial].filter((t) => !existsSync(path.join(dir, 'tile', formatTilePath(t))));
  const fetched = new Map<string, { address: TileAddress; bytes: Uint8Array }>();
  await inPool(wanted, FETCH_CONCURRENCY, async (t) => {
    const rel = formatTilePath(t);
    fetched.set(rel, { address: t, bytes: await source.bytes(`tile/${rel}`) });
  });
  const local = async (rel: string) => (existsSync(path.join(dir, 'tile', rel)) ? new Uint8Array(await readFile(path.join(dir, 'tile', rel))) : undefined);
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
  // The partial tile of level L at index n of the previously mirrored tree, if it had one there.
  const previousPartial = (level: number, index: number): TileAddress | undefined => {
    const count = Math.floor(previous!.size / TILE_WIDTH ** level);
    return Math.floor(count / TILE_WIDTH) === index && count % TILE_WIDTH ? hashTile(level, index, count % TILE_WIDTH) : undefined;
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
      if (err instanceof TlogError) throw new CliFailure(EXIT.tampered, `the tiles do not hold the tree of size ${size}: ${err.message}`);
      throw err;
    }
  };

  // Every new tile against what is below it; of a modelsign service, every new bundle's side file
  // against the bundle.
  const sideFiles = new Map<string, string>();
  for (const [rel, { address: t, bytes }] of fetched) {
    const width = t.width ?? TILE_WIDTH;
    if (t.kind === 'entries') {
      const leaves = entriesOf(bytes, `tile/${rel}`);
      const below = await hashTileAt(0, t.index);
      if (leaves.length !== width || !below) throw new CliFailure(EXIT.tampered, `tile/${rel} does not hold ${width} entries`);
      leaves.forEach((leaf, i) => {
        if (!equalBytes(nodeLogHasher.hashLeaf(leaf), below.subarray(i * 32, i * 32 + 32))) throw new CliFailure(EXIT.tampered, `entry ${t.index * TILE_WIDTH + i} of tile/${rel} does not hash to its leaf hash in tile/0/...`);
      });
      continue;
    }
    if (bytes.length !== width * 32) throw new CliFailure(EXIT.tampered, `tile/${rel} is ${bytes.length} bytes, not ${width * 32}`);
    if (t.level === 0) continue; // checked by the entry bundles and the root
    // Hashes the previous run's partial at this place already held were checked then, against
    // full tiles that cannot have changed since.
    const before = previous ? previousPartial(t.level, t.index) : undefined;
    const prior = before ? await local(formatTilePath(before)) : undefined;
    for (let i = 0; i < width; i++) {
      if (prior && (i + 1) * 32 <= prior.length && equalBytes(prior.subarray(i * 32, i * 32 + 32), bytes.subarray(i * 32, i * 32 + 32))) continue;
      const expected = await node(t.level * 8, t.index * TILE_WIDTH + i);
      const lower = await hashTileAt(t.level - 1, t.index * TILE_WIDTH + i);
      if (!lower || lower.length !== TILE_WIDTH * 32) throw new CliFailure(EXIT.tampered, `tile/${rel} has no full tile below its hash ${i}`);
      const folded = nodeFromTile(lower, { level: t.level - 1, index: t.index * TILE_WIDTH + i, start: 0, count: TILE_WIDTH }, nodeLogHasher);
      if (!expected || !equalBytes(expected, folded)) throw new CliFailure(EXIT.tampered, `hash ${i} of tile/${rel} is not the root of the tile below it`);
    }
  }
  if (server) {
    const bundles = [...full, ...partial].filter((t) => t.kind === 'entries' && !existsSync(path.join(dir, sideFilePath(t))));
    await inPool(bundles, 4, async (t) => {
      const leaves = entriesOf((await tile(t))!, `tile/${formatTilePath(t)}`);
      const first = t.index * TILE_WIDTH;
      const served = await servedEntries(server, first, first + leaves.length);
      served.forEach((e, i) => {
        const data = fromBase64(e.data);
        if (!data || !equalBytes(data, leaves[i]!)) throw new CliFailure(EXIT.tampered, `entry ${first + i}: GET /v1/log/entries serves other leaf data than tile/${formatTilePath(t)}`);
        const problem = sideEntryProblem(first + i, data, e);
        if (problem) throw new CliFailure(EXIT.tampered, problem);
      });
      sideFiles.set(sideFilePath(t), formatSideFile(served));
    });
  }
  if (!equalBytes(await rootAt(checkpoint.size), checkpoint.rootHash)) throw new CliFailure(EXIT.tampered, `the tiles of size ${checkpoint.size} do not lead to the checkpoint's root hash`);
  if (previous && !equalBytes(await rootAt(previous.size), previous.rootHash)) {
    throw new CliFailure(EXIT.history, `fork: the log's tiles give another root at size ${previous.size} than the checkpoint this mirror holds; nothing written`);
  }

  // Tiles and side files first, the checkpoint last.
  let bytes = 0;
  const writes = [...[...fetched].map(([rel, { bytes: data }]) => [path.join('tile', rel), data] as const), ...sideFiles];
  await inPool(writes, FETCH_CONCURRENCY, async ([rel, data]) => {
    await writeOnce(path.join(dir, rel), data);
    bytes += data.length;
  });
  if (!pinned) await writeOnce(pinnedFile, `${vkeyText}\n`);
  await writeOnce(previousFile, note);
  process.stdout.write(`mirrored ${checkpoint.origin} at size ${checkpoint.size}${previous ? ` (was ${previous.size})` : ''}: ${writes.length} files written (${Math.round(bytes / 1024)} KiB) in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  return EXIT.ok;
}
