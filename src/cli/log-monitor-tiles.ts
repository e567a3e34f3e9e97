// `modelsign log monitor --tiles URL --vkey VKEY`: the monitor for any C2SP tlog-tiles log (a
// modelsign service's /v1/log, a `log mirror` on a static host, or another project's log). Each
// run verifies the checkpoint with the pinned note key, reads every entry added since the saved
// state from the entry bundles, checks each against its level-0 tile hash, and replays the leaf
// hashes onto the saved right edge of the tree: the result must be the checkpoint's root, which
// proves the new tree extends the saved one (a fork or a rollback exits 9, naming the size). For
// a modelsign log, each entry's content is checked as `log monitor --server` checks it, from the
// mirror's side files (cli/entry-side-file.ts) or from --server.
import type { Wire } from '../api/wire.ts';
import { bytesToHex, equalBytes, fromBase64, toBase64 } from '../core/bytes.ts';
import { appendLeaves, edgeRoot, type TreeEdge } from '../core/tlog/compact-range.ts';
import { parseEntryBundle } from '../core/tlog/entry-bundle.ts';
import { entryBundlesOf, formatTilePath, TILE_WIDTH, type TileAddress } from '../core/tlog/tile-path.ts';
import { TlogError } from '../core/tlog/tlog-error.ts';
import { nodeLogHasher } from '../services/support/node-hasher.ts';
import { inPool, MIRROR_CONCURRENCY } from '../services/tiles-mirror.ts';
import { parseSideFile, sideEntryProblem, sideFilePath } from '../core/tlog/entry-side-file.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { readStateFile, writeStateFile } from './state-file.ts';
import { fetchJson } from './http.ts';
import { logVkey, TilesSource } from './tiles-source.ts';

export interface TilesMonitorOptions {
  tiles: string;
  vkey: string | undefined;
  state: string;
  server: URL | undefined;
}

interface TilesState {
  version: 1;
  kind: 'tiles';
  /** The log's note key, pinned on the first run. */
  vkey: string;
  origin: string;
  size: number;
  rootHash: string;
  frontier: string[];
  checkpoint: string;
  /** Whether entries' content was checked (side files or --server): once it was, it must be. */
  contentChecked: boolean;
  checkedAt: string;
}

export interface TilesMonitorResult {
  origin: string;
  size: number;
  previousSize: number | null;
  rootHash: string;
  contentChecked: number;
  line: string;
}

const readState = (file: string) =>
  readStateFile<TilesState>(file, 'a tiles monitor state file', (s) => s.version === 1 && s.kind === 'tiles' && Array.isArray(s.frontier) && typeof s.vkey === 'string');

/** The level-0 hashes and leaf data of one entry bundle, each leaf checked against its hash. */
async function readBundle(source: TilesSource, bundle: TileAddress): Promise<{ leaves: Uint8Array[]; hashes: Uint8Array[] }> {
  const rel = formatTilePath(bundle);
  const hashRel = formatTilePath({ ...bundle, kind: 'hash' });
  const [bytes, tile] = await Promise.all([source.bytes(`tile/${rel}`), source.bytes(`tile/${hashRel}`)]);
  const width = bundle.width ?? TILE_WIDTH;
  let leaves: Uint8Array[];
  try {
    leaves = parseEntryBundle(bytes);
  } catch (err) {
    if (err instanceof TlogError) throw new CliFailure(EXIT.history, `tile/${rel}: ${err.message}`);
    throw err;
  }
  if (leaves.length !== width || tile.length !== width * 32) throw new CliFailure(EXIT.history, `tile/${rel} holds ${leaves.length} entries and tile/${hashRel} ${tile.length / 32} hashes, not ${width}`);
  const hashes = leaves.map((leaf, i) => {
    const h = nodeLogHasher.hashLeaf(leaf);
    if (!equalBytes(h, tile.subarray(i * 32, i * 32 + 32))) throw new CliFailure(EXIT.history, `entry ${bundle.index * TILE_WIDTH + i}: its data in tile/${rel} does not hash to its leaf hash in tile/${hashRel}`);
    return h;
  });
  return { leaves, hashes };
}

/** Entry content from the service: each served entry's data must be the bundle's. */
async function contentFromServer(server: URL, first: number, leaves: Uint8Array[]): Promise<number> {
  let at = first;
  while (at < first + leaves.length) {
    const page = (await fetchJson(server.href, `/v1/log/entries?start=${at}&end=${first + leaves.length}`)) as Wire['LogEntries'];
    if (!Array.isArray(page.entries) || page.entries.length === 0) throw new CliFailure(EXIT.history, `${server.href} served no entries from ${at}`);
    for (const e of page.entries) {
      const leaf = leaves[at - first]!;
      if (!equalBytes(fromBase64(e.data) ?? new Uint8Array(0), leaf)) throw new CliFailure(EXIT.history, `entry ${at}: ${server.href} serves other leaf data than the tiles`);
      const problem = sideEntryProblem(at, leaf, e, nodeLogHasher.sha256);
      if (problem) throw new CliFailure(EXIT.history, problem);
      at++;
    }
  }
  return leaves.length;
}

export async function monitorTiles(options: TilesMonitorOptions): Promise<TilesMonitorResult> {
  const state = await readState(options.state);
  if (state && options.vkey && options.vkey.trim() !== state.vkey) throw new CliFailure(EXIT.usage, `${options.state} pinned ${state.vkey}, not the --vkey given; use another state file`);
  const vkeyText = state?.vkey ?? options.vkey?.trim();
  if (!vkeyText) throw new CliFailure(EXIT.usage, 'the first run of --tiles needs --vkey (the log\'s verifier key)');
  const vkey = logVkey(vkeyText);
  const source = new TilesSource(options.tiles.replace(/\/$/, ''));
  const { note, checkpoint } = await source.checkpoint(vkey);

  let edge: TreeEdge = { size: 0, frontier: [] };
  if (state) {
    if (checkpoint.origin !== state.origin) throw new CliFailure(EXIT.history, `the log's origin changed from ${state.origin} to ${checkpoint.origin}`);
    if (checkpoint.size < state.size) throw new CliFailure(EXIT.history, `rollback: the log's checkpoint has ${checkpoint.size} entries, fewer than the ${state.size} this monitor saw`);
    if (checkpoint.size === state.size && !equalBytes(checkpoint.rootHash, fromBase64(state.rootHash)!)) throw new CliFailure(EXIT.history, `fork: two different trees of size ${state.size}`);
    edge = { size: state.size, frontier: state.frontier.map((h) => fromBase64(h)!) };
  }

  // The new entries, a bundle at a time (several in flight), replayed in order.
  const bundles = entryBundlesOf(edge.size, checkpoint.size);
  const read = await inPool(bundles, MIRROR_CONCURRENCY, (bundle) => readBundle(source, bundle));
  const from = edge.size;
  // The first bundle may hold entries the saved state already has.
  const firstNew = (bundle: TileAddress) => Math.max(0, from - bundle.index * TILE_WIDTH);
  bundles.forEach((bundle, k) => (edge = appendLeaves(edge, read[k]!.hashes.slice(firstNew(bundle)), nodeLogHasher).edge));
  if (!equalBytes(edgeRoot(edge, nodeLogHasher), checkpoint.rootHash)) {
    throw new CliFailure(EXIT.history, state ? `fork: the log's tree of size ${checkpoint.size} does not extend the tree of size ${state.size} this monitor saw` : `the entries of the tiles do not hash to the root of the checkpoint of size ${checkpoint.size}`);
  }

  // Then what each new entry says, from --server or the side files: all of them, or (a log that
  // is not a modelsign mirror) none, which a log that had them cannot turn into.
  let contentChecked = 0;
  let noSideFiles = false;
  if (options.server) {
    for (const [k, bundle] of bundles.entries()) {
      const skip = firstNew(bundle);
      contentChecked += await contentFromServer(options.server, bundle.index * TILE_WIDTH + skip, read[k]!.leaves.slice(skip));
    }
  } else {
    const sides = await inPool(bundles, MIRROR_CONCURRENCY, (bundle) => source.bytes(sideFilePath(bundle), true));
    const missing = bundles.findIndex((_, k) => !sides[k]);
    noSideFiles = bundles.length > 0 && sides.every((side) => !side) && !state?.contentChecked;
    if (missing >= 0 && !noSideFiles) {
      throw new CliFailure(EXIT.history, `${source.base}/${sideFilePath(bundles[missing]!)} is missing, and ${state?.contentChecked ? 'this log\'s entries had their content checked before' : 'other bundles have theirs'}`);
    }
    for (const [k, bundle] of noSideFiles ? [] : bundles.entries()) {
      const entries = parseSideFile(sides[k]!);
      if (!entries) throw new CliFailure(EXIT.history, `${source.base}/${sideFilePath(bundle)} is not a side file`);
      for (let i = firstNew(bundle); i < read[k]!.leaves.length; i++) {
        const problem = sideEntryProblem(bundle.index * TILE_WIDTH + i, read[k]!.leaves[i]!, entries[i], nodeLogHasher.sha256);
        if (problem) throw new CliFailure(EXIT.history, problem);
        contentChecked++;
      }
    }
  }
  await writeStateFile(
    options.state,
    {
        version: 1,
        kind: 'tiles',
        vkey: vkeyText,
        origin: checkpoint.origin,
        size: checkpoint.size,
        rootHash: toBase64(checkpoint.rootHash),
        frontier: edge.frontier.map(toBase64),
        checkpoint: note,
        contentChecked: (state?.contentChecked ?? false) || contentChecked > 0,
        checkedAt: new Date().toISOString(),
      } satisfies TilesState,
  );
  const content = contentChecked > 0 ? `, ${contentChecked} entries' content checked` : noSideFiles ? ' (no side files: entries checked by their hashes only)' : '';
  return {
    origin: checkpoint.origin,
    size: checkpoint.size,
    previousSize: state?.size ?? null,
    rootHash: bytesToHex(checkpoint.rootHash),
    contentChecked,
    line: state
      ? `ok: ${checkpoint.origin} grew by ${checkpoint.size - state.size} to ${checkpoint.size} entries, consistent with the saved checkpoint${content}`
      : `ok: first run, pinned ${checkpoint.origin} at ${checkpoint.size} entries${content}`,
  };
}
