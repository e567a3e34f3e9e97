// The transparency log service: hooks for the signature writer, the checkpointer, and
// everything the log routes and bundles read.
//
// Design (the acknowledgement guarantee and multi-instance safety follow from it):
// - Sequencing happens in the statement that stores a batch of signatures (signature-writer.ts
//   calls tlog_append, see the tlog migration): it locks the single tlog_state row, numbers the
//   new signatures from the current size, stores the new tree nodes and the new right edge, and
//   commits with them. A signature acknowledged with 2xx is therefore always in the tree, and
//   the row lock makes indexes gapless and unique whatever the number of instances. Batching is
//   the writer's natural batching: one lock, one statement and one commit serve many signatures
//   (the idea of Tessera's sequencer).
// - Integration: the writer usually stores the batch's checkpoint in that same statement (it
//   signs the tree it predicts; the database keeps the note only if its own root matches).
//   Otherwise, and every `checkpointIntervalMs` in case an instance died between commit and
//   checkpoint, publish() signs the committed tree and tlog_publish stores it under the same
//   row lock. The tree only ever grows and every stored checkpoint is checked against it, so no
//   two checkpoints can be inconsistent.
// - A bundle's entry uses the first checkpoint that covers it, so bundles are stable and carry
//   the earliest signed time of their entry.
import { ModelsignError } from '../core/errors.ts';
import { parseCheckpoint } from '../core/tlog/checkpoint.ts';
import { edgeRoot, unpackFrontier, type StoredNode } from '../core/tlog/compact-range.ts';
import { bytesToHex } from '../core/bytes.ts';
import { signCheckpoint, type SignedCheckpoint } from '../core/tlog/log-note.ts';
import { hashRanges, nodesFor } from '../core/tlog/proof-build.ts';
import { leafDataFromDigest } from '../core/tlog/leaf.ts';
import { subjectName } from '../core/release-name.ts';
import { buildTlogEntry, type TlogEntry } from '../core/tlog/tlog-entry.ts';
import { consistencyRanges, inclusionRanges, type LeafRange } from '../core/tlog/tree-math.ts';
import { emptyRoot, leafHash } from '../core/tlog/hash.ts';
import type { Database } from '../db/client.ts';
import type { Clock } from './clock.ts';
import type { KeyService } from './keys.ts';
import type { PreparedCheckpoint } from './signature-writer.ts';
import { NodeReader } from './tlog-store.ts';

export interface TlogOptions {
  origin: string;
  /** How often to look for entries no checkpoint covers yet (e.g. left by a crashed instance). */
  checkpointIntervalMs?: number;
  /** Nodes kept in memory per instance (0 disables the cache). */
  nodeCacheSize?: number;
  onError?: (err: unknown) => void;
}

export interface StoredCheckpoint extends SignedCheckpoint {
  kid: string;
  /**
   * The first index this checkpoint is the first to cover (the size of the checkpoint before it),
   * when known: checkpoints this instance stored know it, ones read back from the database do not.
   */
  coversFrom: number | null;
}

interface Waiter {
  size: number;
  resolve(checkpoint: StoredCheckpoint | undefined): void;
}

interface CheckpointRow {
  size: string;
  note: string;
  kid: string;
  timestamp: string;
}

// Read from "tlog_checkpoints" (or a subquery of it) aliased c.
const CHECKPOINT_COLUMNS = 'c."size"::text AS "size", c."note", c."kid", c."timestamp"::text AS "timestamp"';

export const MAX_ENTRIES_PAGE = 1000;

export class TlogService {
  readonly origin: string;
  readonly nodes: NodeReader;
  private latest: StoredCheckpoint | undefined;
  private readonly recent: StoredCheckpoint[] = [];
  private waiters: Waiter[] = [];
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  /** performance.now() of the last time this instance saw the log's state (a publish run or a batch's checkpoint). */
  private lastSeenAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
    private readonly clock: Clock,
    private readonly options: TlogOptions,
  ) {
    this.origin = options.origin;
    this.nodes = new NodeReader(db, options.nodeCacheSize ?? 200_000);
  }

  async start(): Promise<void> {
    await this.publish();
    const every = this.options.checkpointIntervalMs ?? 500;
    this.timer = setInterval(() => this.request(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.waiters) w.resolve(undefined);
    this.waiters = [];
  }

  /** After a key change: forget which checkpoint covered what, and sign again if the log key changed. */
  keysChanged(): void {
    this.recent.length = 0;
    this.request();
  }

  /** Whether this instance has seen the log's current state within `maxAgeMs` (readiness). */
  isCurrent(maxAgeMs: number): boolean {
    return performance.now() - this.lastSeenAt <= maxAgeMs;
  }

  /** The newest checkpoint this instance knows of, without a database read (metrics). */
  latestKnown(): StoredCheckpoint | undefined {
    return this.latest;
  }

  /** Test hook: hold back checkpoints (entries are still sequenced) to exercise late integration. */
  pauseCheckpoints(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.request();
  }

  /** WriterLogHooks: the checkpoint of the tree a signing batch is about to make. */
  prepareCheckpoint(size: number, rootHash: Uint8Array): PreparedCheckpoint | undefined {
    if (this.paused || !this.keys.hasSigner('log')) return undefined;
    return this.sign(size, rootHash);
  }

  /** WriterLogHooks: after a batch committed; asks for a checkpoint if the batch did not carry one. */
  appended(nodes: readonly StoredNode[], checkpoint?: PreparedCheckpoint & { previousSize: number | null }): void {
    this.nodes.remember(nodes);
    if (checkpoint) {
      this.lastSeenAt = performance.now();
      this.observe({ ...checkpoint, origin: this.origin, coversFrom: checkpoint.previousSize ?? 0 });
    }
    else this.request();
  }

  private sign(size: number, rootHash: Uint8Array): PreparedCheckpoint {
    const signer = this.keys.signer('log');
    const key = this.keys.get(signer.kid)!;
    const at = this.clock.now();
    // Never below the newest signed time this instance knows; the database refuses a time below
    // the newest stored one, so signed times never go back whatever the instances' clocks say.
    const timestamp = Math.max(Math.floor(at.getTime() / 1000), this.latest?.timestamp ?? 0);
    const note = signCheckpoint({ origin: this.origin, size, rootHash }, { publicKey: key.publicKey, sign: signer.sign }, timestamp);
    return { size, rootHash, note, kid: signer.kid, timestamp, at };
  }

  /** Resolves with a checkpoint of at least `size` leaves, or undefined after `timeoutMs`. */
  waitFor(size: number, timeoutMs: number): Promise<StoredCheckpoint | undefined> {
    if (this.latest && this.latest.size >= size) return Promise.resolve(this.latest);
    if (timeoutMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = { size, resolve };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, timeoutMs);
      waiter.resolve = (c) => {
        clearTimeout(timer);
        resolve(c);
      };
      this.waiters.push(waiter);
      this.request();
    });
  }

  /** Coalesces requests: at most one checkpoint run at a time, and one more if asked meanwhile. */
  request(): void {
    if (this.paused) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.publish();
        } catch (err) {
          this.options.onError?.(err);
          break;
        }
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
  }

  /**
   * Signs a checkpoint for the committed tree if none covers it yet; returns the newest. The
   * signing batch usually stores its own checkpoint (signature-writer.ts); this path covers the
   * rest: a batch whose prediction failed, signatures added by sequenceUnlogged, an instance that
   * died between commit and checkpoint. tlog_publish stores the note only for the tree as it
   * still is, under the same lock as appends. The time is read after the tree, so the signed
   * time is an upper bound on when every entry in it was logged (instances must keep their
   * clocks synchronised: a clock running behind would sign too early a time).
   */
  async publish(): Promise<StoredCheckpoint> {
    for (let attempt = 0; ; attempt++) {
      const signerKid = this.keys.hasSigner('log') ? this.keys.signer('log').kid : null;
      // The newest checkpoint, preferring the active log key's among those of the newest size.
      const [row] = await this.db.query<CheckpointRow & { treeSize: string; frontier: Uint8Array }>(
        `SELECT s."size"::text AS "treeSize", s."frontier", ${CHECKPOINT_COLUMNS}
         FROM "tlog_state" s LEFT JOIN LATERAL (
           SELECT * FROM "tlog_checkpoints" x ORDER BY x."size" DESC, (x."kid" = $1::text) DESC NULLS LAST, x."timestamp" DESC LIMIT 1
         ) c ON true WHERE s."id" = 1`,
        [signerKid],
      );
      if (!row) throw new Error('tlog_state is missing its row; the tlog migration did not run');
      const previous = row.note ? toStored(row) : undefined;
      if (previous && (!this.latest || previous.size > this.latest.size)) this.latest = previous;
      const edge = unpackFrontier(Number(row.treeSize), new Uint8Array(row.frontier));
      // Up to date, unless the newest checkpoint is by a log key that is no longer the active
      // one: then the same tree is signed again by the new key (after a rotation or revocation,
      // bundles must not depend on the old key).
      if (previous && previous.size >= edge.size && (previous.kid === signerKid || signerKid === null)) {
        this.lastSeenAt = performance.now();
        this.observe(previous);
        return previous;
      }
      const prepared = this.sign(edge.size, edgeRoot(edge));
      const [result] = await this.db.query<{ stored: boolean; previous: string | null }>(
        'SELECT "stored", "previous"::text AS "previous" FROM "tlog_publish"($1::bigint, decode($2, \'hex\'), $3, $4, $5::bigint, $6::timestamptz)',
        [String(prepared.size), bytesToHex(prepared.rootHash), prepared.note, prepared.kid, String(prepared.timestamp), prepared.at],
      );
      if (result?.stored) {
        this.lastSeenAt = performance.now();
        const checkpoint: StoredCheckpoint = { ...prepared, origin: this.origin, coversFrom: result.previous === null ? 0 : Number(result.previous) };
        this.observe(checkpoint);
        return checkpoint;
      }
      if (attempt >= 10) throw new Error('could not publish a checkpoint after 10 attempts');
    }
  }

  private observe(checkpoint: StoredCheckpoint): void {
    if (!this.latest || checkpoint.size > this.latest.size) this.latest = checkpoint;
    if (checkpoint.coversFrom !== null) {
      if (!this.recent.some((c) => c.size === checkpoint.size)) {
        this.recent.push(checkpoint);
        if (this.recent.length > 64) this.recent.shift();
      }
    }
    const ready = this.waiters.filter((w) => w.size <= this.latest!.size);
    if (ready.length > 0) {
      this.waiters = this.waiters.filter((w) => w.size > this.latest!.size);
      for (const w of ready) w.resolve(this.latest);
    }
  }

  /** The newest signed checkpoint in the database. */
  async latestCheckpoint(): Promise<StoredCheckpoint> {
    const [row] = await this.db.query<CheckpointRow>(
      `SELECT ${CHECKPOINT_COLUMNS} FROM "tlog_checkpoints" c ORDER BY c."size" DESC, c."timestamp" DESC LIMIT 1`,
    );
    if (!row) return this.publish();
    const c = toStored(row);
    if (!this.latest || c.size > this.latest.size) this.latest = c;
    return c;
  }

  /** The first checkpoint whose tree contains `index`, if one has been signed. */
  async firstCheckpointCovering(index: number): Promise<StoredCheckpoint | undefined> {
    const revoked = this.keys.list().filter((k) => k.purpose === 'log' && k.status === 'revoked').map((k) => k.kid);
    const hit = this.recent.find((c) => c.coversFrom !== null && c.coversFrom <= index && index < c.size && !revoked.includes(c.kid));
    if (hit) return hit;
    // Checkpoints of a revoked log key are skipped: the tree was signed again by its successor.
    const [row] = await this.db.query<CheckpointRow>(
      `SELECT ${CHECKPOINT_COLUMNS} FROM "tlog_checkpoints" c
       WHERE c."size" > $1::bigint AND NOT (c."kid" = ANY($2::text[])) ORDER BY c."size", c."timestamp" LIMIT 1`,
      [String(index), revoked],
    );
    return row ? toStored(row) : undefined;
  }

  /** The hashes of leaf ranges, from one read of the nodes they need. */
  private async hashes(ranges: readonly LeafRange[]): Promise<Uint8Array[]> {
    return hashRanges(ranges, await this.nodes.read(nodesFor(ranges)));
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

  /** The bundle entry for a logged signature, or undefined while no checkpoint covers it yet. */
  async entryFor(index: number, leaf: Uint8Array): Promise<TlogEntry | undefined> {
    const checkpoint = await this.firstCheckpointCovering(index);
    if (!checkpoint) return undefined;
    const proof = await this.inclusionProof(index, checkpoint.size);
    return buildTlogEntry({ index, logKid: checkpoint.kid, checkpoint, proof, leaf });
  }

  /** The root hash of the tree's first `size` leaves (any size up to the current one). */
  async rootAt(size: number): Promise<Uint8Array> {
    return size === 0 ? emptyRoot() : (await this.hashes([[0, size]]))[0]!;
  }

  /** Leaf data of entries [start, end), derived from the stored signatures. */
  async entries(start: number, end: number): Promise<LogEntry[]> {
    const rows = await this.db.query<{ id: string; logIndex: string; model: string; version: string; rootDigest: string; kid: string; payloadSha256: string; signature: Uint8Array }>(
      `SELECT "id"::text AS "id", "log_index"::text AS "logIndex", "model", "version", "root_digest" AS "rootDigest", "kid",
              encode(sha256("payload"), 'hex') AS "payloadSha256", "signature"
       FROM "release_signatures" WHERE "log_index" >= $1::bigint AND "log_index" < $2::bigint ORDER BY "log_index"`,
      [String(start), String(end)],
    );
    if (rows.length !== end - start || rows.some((r, i) => Number(r.logIndex) !== start + i)) {
      throw new ModelsignError('internal_error', `log entries [${start}, ${end}) are not all stored`);
    }
    return rows.map((r) => {
      const data = leafDataFromDigest({ subject: subjectName(r.model, r.version), rootDigest: r.rootDigest, payloadSha256: r.payloadSha256, kid: r.kid, signature: new Uint8Array(r.signature) });
      return { index: Number(r.logIndex), signatureId: r.id, data, leafHash: leafHash(data) };
    });
  }

  /** Refuses a range the signed log does not cover, in the words of the route's parameters. */
  static assertRange(ok: boolean, message: string): void {
    if (!ok) throw new ModelsignError('log_range_invalid', message);
  }
}

export interface LogEntry {
  index: number;
  signatureId: string;
  data: Uint8Array;
  leafHash: Uint8Array;
}

/** A checkpoint read back from the database (which does not say what it first covered). */
function toStored(row: CheckpointRow): StoredCheckpoint {
  const c = parseCheckpoint(row.note.slice(0, row.note.lastIndexOf('\n\n') + 1));
  return { ...c, note: row.note, timestamp: Number(row.timestamp), kid: row.kid, coversFrom: null };
}
