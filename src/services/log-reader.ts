// The transparency log, read: checkpoints, proofs, entries and bundle entries, with the caches
// that make them cheap (tree nodes never change once written; the checkpoint that first covered
// an entry does not change until a log key does). Read-only: the tree is written by tlog_append
// (signature writer, the backfill (log-backfill.ts)) and checkpoints by the Checkpointer, which tell this
// reader what they wrote. docs/design/log.md.
import { LRUCache } from 'lru-cache';
import { ModelsignError } from '../core/errors.ts';
import { parseCheckpoint } from '../core/tlog/checkpoint.ts';
import type { StoredNode } from '../core/tlog/compact-range.ts';
import type { LogEntry } from '../core/tlog/entries/entry-content.ts';
import { rowEntryFacts, type KindVersion } from '../core/tlog/entries/entry-kind.ts';
import { entryKindNamed } from '../core/tlog/entries/registry.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import type { SignedCheckpoint } from '../core/tlog/log-note.ts';
import { hashRanges, nodeKey, nodesFor, type NodeLookup } from '../core/tlog/proof-build.ts';
import { buildTlogEntry, type TlogEntry } from '../core/tlog/tlog-entry.ts';
import { consistencyRanges, inclusionRanges, type LeafRange, type NodeId } from '../core/tlog/tree-math.ts';
import type { Database } from '../db/client.ts';
import { firstCheckpointCovering, latestCheckpoint, type CheckpointRow } from '../db/log-store.ts';
import { nodesFromTiles, type TileHashes } from './tile-hashes.ts';
import { logEntryRows } from '../db/signature-store.ts';
import type { KeyService } from './keys.ts';

export interface StoredCheckpoint extends SignedCheckpoint {
  kid: string;
  /**
   * The first index this checkpoint is the first to cover (the size of the checkpoint before it),
   * when known: checkpoints this instance stored know it, ones read back from the database do not.
   */
  coversFrom: number | null;
}

export type { LogEntry };

export interface LogReaderOptions {
  /** Nodes kept in memory per instance (0 disables the cache). */
  nodeCacheSize: number;
}

// Checkpoints this instance saw stored, newest last: most bundles are asked for just after signing.
const RECENT_CHECKPOINTS = 64;

/** A checkpoint read back from the database (which does not say what it first covered). */
export function storedCheckpointOf(row: CheckpointRow): StoredCheckpoint {
  const c = parseCheckpoint(row.note.slice(0, row.note.lastIndexOf('\n\n') + 1));
  return { ...c, note: row.note, timestamp: row.timestamp, kid: row.kid, coversFrom: null };
}

export class LogReader {
  private logOrigin: string | undefined;
  private latest: StoredCheckpoint | undefined;
  private readonly recent: StoredCheckpoint[] = [];
  private readonly nodeCache: LRUCache<string, Uint8Array> | undefined;
  private served: (() => Promise<StoredCheckpoint>) | undefined;
  private lastServed: StoredCheckpoint | undefined;

  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
    private readonly hasher: LogHasher,
    private readonly tiles: TileHashes,
    options: LogReaderOptions,
  ) {
    this.nodeCache = options.nodeCacheSize > 0 ? new LRUCache({ max: options.nodeCacheSize }) : undefined;
  }

  /** The log's origin (services/log-origin.ts), known once the instance has started. */
  get origin(): string {
    if (this.logOrigin === undefined) throw new Error('the log origin is read before the instance started');
    return this.logOrigin;
  }

  /** Set once at start (services/log-origin.ts settles it); reading `origin` before this throws. */
  startWithOrigin(origin: string): void {
    this.logOrigin = origin;
  }

  /** A checkpoint the writer or the checkpointer stored or read: newest, and what it first covers. */
  checkpointKnown(checkpoint: StoredCheckpoint): void {
    if (!this.latest || checkpoint.size > this.latest.size) this.latest = checkpoint;
    if (checkpoint.coversFrom !== null && !this.recent.some((c) => c.size === checkpoint.size)) {
      this.recent.push(checkpoint);
      if (this.recent.length > RECENT_CHECKPOINTS) this.recent.shift();
    }
  }

  /** Tree nodes just written (by this instance). */
  rememberNodes(nodes: readonly StoredNode[]): void {
    if (this.nodeCache) for (const n of nodes) this.nodeCache.set(nodeKey(n), n.hash);
    this.tiles.remember(nodes);
  }

  /** After a key change: which checkpoint first covered what may have changed (a revoked log key's are skipped). */
  keysChanged(): void {
    this.recent.length = 0;
  }

  /** The newest checkpoint this instance knows of, without a database read (metrics, signing times). */
  latestKnown(): StoredCheckpoint | undefined {
    return this.latest;
  }

  /**
   * The checkpoint the log serves (GET /v1/log/checkpoint, and the bound of proofs, entries and
   * tiles): with witnesses, the witnessed one (services/witnessed-log.ts); otherwise the newest.
   */
  async servedCheckpoint(): Promise<StoredCheckpoint> {
    if (!this.served) return this.latestCheckpoint();
    const c = await this.served();
    if (!this.lastServed || c.size > this.lastServed.size) this.lastServed = c;
    return c;
  }

  /** The largest checkpoint this instance served, without a database read (what is served never shrinks). */
  servedKnown(): StoredCheckpoint | undefined {
    return this.served ? this.lastServed : this.latest;
  }

  /** With witnesses: what servedCheckpoint asks (set once by the composition root). */
  serveWith(served: () => Promise<StoredCheckpoint>): void {
    this.served = served;
  }

  /** The newest signed checkpoint in the database. */
  async latestCheckpoint(): Promise<StoredCheckpoint> {
    const row = await latestCheckpoint(this.db);
    // The checkpointer signs the empty tree before the service answers anything.
    if (!row) throw new ModelsignError('unavailable', 'the log has no signed checkpoint yet');
    const c = storedCheckpointOf(row);
    this.checkpointKnown(c);
    return c;
  }

  /** The first checkpoint whose tree contains `index`, if one has been signed. */
  async firstCheckpointCovering(index: number): Promise<StoredCheckpoint | undefined> {
    const revoked = this.keys.list().filter((k) => k.purpose === 'log' && k.status === 'revoked').map((k) => k.kid);
    const hit = this.recent.find((c) => c.coversFrom !== null && c.coversFrom <= index && index < c.size && !revoked.includes(c.kid));
    if (hit) return hit;
    // Checkpoints of a revoked log key are skipped: the tree was signed again by its successor.
    const row = await firstCheckpointCovering(this.db, index, revoked);
    return row ? storedCheckpointOf(row) : undefined;
  }

  async inclusionProof(index: number, treeSize: number): Promise<Uint8Array[]> {
    return this.hashes(inclusionRanges(index, treeSize));
  }

  async consistencyProof(from: number, to: number): Promise<Uint8Array[]> {
    return this.hashes(consistencyRanges(from, to));
  }

  /** An inclusion proof and the root it leads to, from one read. */
  async inclusionProofWithRoot(index: number, treeSize: number): Promise<{ proof: Uint8Array[]; root: Uint8Array }> {
    const all = await this.hashes([...inclusionRanges(index, treeSize), [0, treeSize]]);
    return { proof: all.slice(0, -1), root: all.at(-1)! };
  }

  /** A consistency proof and the roots at both ends (from >= 1), from one read. */
  async consistencyProofWithRoots(from: number, to: number): Promise<{ proof: Uint8Array[]; fromRoot: Uint8Array; toRoot: Uint8Array }> {
    const all = await this.hashes([...consistencyRanges(from, to), [0, from], [0, to]]);
    return { proof: all.slice(0, -2), fromRoot: all.at(-2)!, toRoot: all.at(-1)! };
  }

  /** The root hash of the tree's first `size` leaves (any size up to the current one). */
  async rootAt(size: number): Promise<Uint8Array> {
    return size === 0 ? this.hasher.emptyRoot() : (await this.hashes([[0, size]]))[0]!;
  }

  /** The bundle entry for a logged signature (its leaf data given), or undefined while no checkpoint covers it yet. */
  async entryFor(index: number, kindVersion: KindVersion, leaf: Uint8Array): Promise<TlogEntry | undefined> {
    const checkpoint = await this.firstCheckpointCovering(index);
    if (!checkpoint) return undefined;
    const proof = await this.inclusionProof(index, checkpoint.size);
    return buildTlogEntry({ index, logKid: checkpoint.kid, logKey: await this.keys.publicKey(checkpoint.kid), checkpoint, proof, kindVersion, leaf });
  }

  /** Entries [start, end): leaf data derived from the stored signatures, with the release and payload. */
  async entries(start: number, end: number): Promise<LogEntry[]> {
    const rows = await logEntryRows(this.db, start, end);
    if (rows.length !== end - start || rows.some((r, i) => r.logIndex !== start + i)) {
      throw new ModelsignError('internal_error', `log entries [${start}, ${end}) are not all stored`);
    }
    const entries: LogEntry[] = [];
    for (const r of rows) {
      const kind = entryKindNamed(r.entryKind);
      const facts = rowEntryFacts(r, await this.keys.publicKey(r.kid));
      const data = kind.leafData(facts, this.hasher.sha256);
      entries.push({ index: r.logIndex, signatureId: r.id, kindVersion: kind.kindVersion, data, leafHash: this.hasher.hashLeaf(data), release: { model: r.model, version: r.version }, payloadType: facts.payloadType, payload: r.payload, kid: r.kid, signedAt: r.createdAt });
    }
    return entries;
  }

  /** The hashes of leaf ranges, from one read of the nodes they need. */
  private async hashes(ranges: readonly LeafRange[]): Promise<Uint8Array[]> {
    return hashRanges(ranges, await this.nodes(nodesFor(ranges)), this.hasher);
  }

  /**
   * A lookup over all of `ids`: each node is read from its hash tile, as a tiles client reads it
   * (core/tlog/tile-math.ts), through the tile rows' cache; computed nodes are remembered.
   */
  async nodes(ids: readonly NodeId[]): Promise<NodeLookup> {
    const found = new Map<string, Uint8Array>();
    const missing: NodeId[] = [];
    for (const id of ids) {
      const hit = this.nodeCache?.get(nodeKey(id));
      if (hit) found.set(nodeKey(id), hit);
      else missing.push(id);
    }
    const hashes = await nodesFromTiles(missing, this.tiles, this.hasher);
    missing.forEach((id, i) => {
      found.set(nodeKey(id), hashes[i]!);
      this.nodeCache?.set(nodeKey(id), hashes[i]!);
    });
    return (id) => found.get(nodeKey(id));
  }
}
