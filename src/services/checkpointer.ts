// The checkpointer: signs the log's tree with the log key and stores the checkpoint, and answers
// signing calls that wait for one covering their entry. A signing batch usually carries its own
// checkpoint (prepareCheckpoint, stored by the batch's statement when its prediction of the tree
// holds); publish() covers the rest: a batch whose prediction failed, signatures added by
// the backfill (log-backfill.ts), an instance that died between commit and checkpoint, a log key rotated.
// tlog_publish stores a checkpoint only for the tree as it still is, under the lock appends take,
// so no two checkpoints can be inconsistent. docs/design/log.md.
import { ModelsignError } from '../core/errors.ts';
import { edgeRoot, unpackFrontier, type StoredNode } from '../core/tlog/compact-range.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import { signCheckpoint } from '../core/tlog/log-note.ts';
import type { Database } from '../db/client.ts';
import { publishCheckpoint, readLogHead, type CheckpointToStore } from '../db/log-store.ts';
import type { Clock } from './support/clock.ts';
import type { KeyService } from './keys.ts';
import { storedCheckpointOf, type LogReader, type StoredCheckpoint } from './log-reader.ts';
import { later, singleFlight, type SingleFlight } from './support/periodic.ts';
import type { WriterLogHooks } from './signature-writer.ts';

interface Waiter {
  size: number;
  resolve(checkpoint: StoredCheckpoint | undefined): void;
}

// A prediction that lost a race costs one more attempt; this many in a row means something is wrong.
const MAX_ATTEMPTS = 10;

export class Checkpointer implements WriterLogHooks {
  private waiters: Waiter[] = [];
  private paused = false;
  /**
   * performance.now() of the last time this instance saw the log's state (a publish run or a
   * batch's checkpoint). Readiness asks how long ago that was, a duration: the monotonic clock.
   */
  private lastSeenAt = Number.NEGATIVE_INFINITY;
  private readonly run: SingleFlight<StoredCheckpoint>;

  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
    private readonly reader: LogReader,
    private readonly clock: Clock,
    private readonly hasher: LogHasher,
    private readonly onError: (err: unknown) => void,
  ) {
    // At most one publish at a time; asked during one, one more runs after it.
    this.run = singleFlight(() => this.publish());
  }

  /** Asks for a checkpoint covering everything committed so far (soon, in the background). */
  requestCheckpoint(): void {
    if (!this.paused) this.run().catch(this.onError);
  }

  /** A publish run, awaited (the periodic job's task, the first one at start); the newest checkpoint. */
  async checkpointNow(): Promise<StoredCheckpoint | undefined> {
    return this.paused ? undefined : this.run();
  }

  /** Answers every waiter (with nothing) and waits for a run in progress. */
  async stop(): Promise<void> {
    this.paused = true;
    for (const w of this.waiters) w.resolve(undefined);
    this.waiters = [];
    await this.run.idle();
  }

  /** After a key change: forget which checkpoint covered what, and sign again if the log key changed. */
  keysChanged(): void {
    this.reader.keysChanged();
    this.requestCheckpoint();
  }

  /** Whether this instance has seen the log's current state within `maxAgeMs` (readiness). */
  isCurrent(maxAgeMs: number): boolean {
    return performance.now() - this.lastSeenAt <= maxAgeMs;
  }

  /** Test hook: hold back checkpoints (entries are still sequenced) to exercise late integration. */
  pauseCheckpoints(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.requestCheckpoint();
  }

  /** WriterLogHooks: the checkpoint of the tree a signing batch is about to make. */
  async prepareCheckpoint(size: number, rootHash: Uint8Array): Promise<CheckpointToStore | undefined> {
    if (this.paused || !this.keys.hasSigner('log')) return undefined;
    try {
      return await this.sign(size, rootHash);
    } catch (err) {
      // The log key's token is away: the batch commits without a checkpoint, and the periodic
      // checkpoint covers it once the token is back. The release signatures are already made.
      if (err instanceof ModelsignError && err.code === 'key_backend_unavailable') return undefined;
      throw err;
    }
  }

  /** WriterLogHooks: after a batch committed; asks for a checkpoint if the batch did not carry one. */
  appended(nodes: readonly StoredNode[], checkpoint?: CheckpointToStore & { previousSize: number | null }): void {
    this.reader.rememberNodes(nodes);
    if (checkpoint) {
      this.lastSeenAt = performance.now();
      this.checkpointKnown({ ...checkpoint, origin: this.reader.origin, coversFrom: checkpoint.previousSize ?? 0 });
    } else {
      this.requestCheckpoint();
    }
  }

  /** Resolves with a checkpoint of at least `size` leaves, or undefined after `timeoutMs`. */
  waitFor(size: number, timeoutMs: number): Promise<StoredCheckpoint | undefined> {
    const latest = this.reader.latestKnown();
    if (latest && latest.size >= size) return Promise.resolve(latest);
    if (timeoutMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = { size, resolve };
      const timer = later(timeoutMs, () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      });
      waiter.resolve = (c) => {
        timer.cancel();
        resolve(c);
      };
      this.waiters.push(waiter);
      this.requestCheckpoint();
    });
  }

  private async sign(size: number, rootHash: Uint8Array): Promise<CheckpointToStore> {
    const signer = this.keys.signer('log');
    const at = this.clock.now();
    // Never below the newest signed time this instance knows; the database refuses a time below
    // the newest stored one, so signed times never go back whatever the instances' clocks say.
    const timestamp = Math.max(Math.floor(at.getTime() / 1000), this.reader.latestKnown()?.timestamp ?? 0);
    const note = await signCheckpoint({ origin: this.reader.origin, size, rootHash }, signer, timestamp);
    return { size, rootHash, note, kid: signer.kid, timestamp, at };
  }

  /**
   * Signs a checkpoint for the committed tree if none covers it yet; returns the newest. The
   * time is read after the tree, so the signed time is an upper bound on when every entry in it
   * was logged (instances must keep their clocks synchronised: a clock running behind would sign
   * too early a time).
   */
  private async publish(): Promise<StoredCheckpoint> {
    for (let attempt = 1; ; attempt++) {
      const signerKid = this.keys.hasSigner('log') ? this.keys.signer('log').kid : null;
      const head = await readLogHead(this.db, signerKid);
      const previous = head.checkpoint ? storedCheckpointOf(head.checkpoint) : undefined;
      if (previous) this.checkpointKnown(previous);
      const edge = unpackFrontier(head.size, head.frontier);
      // Up to date, unless the newest checkpoint is by a log key that is no longer the active
      // one: then the same tree is signed again by the new key (after a rotation or revocation,
      // bundles must not depend on the old key).
      if (previous && previous.size >= edge.size && (previous.kid === signerKid || signerKid === null)) {
        this.lastSeenAt = performance.now();
        return previous;
      }
      const prepared = await this.sign(edge.size, edgeRoot(edge, this.hasher));
      const result = await publishCheckpoint(this.db, prepared);
      if (result.stored) {
        this.lastSeenAt = performance.now();
        const checkpoint: StoredCheckpoint = { ...prepared, origin: this.reader.origin, coversFrom: result.previous ?? 0 };
        this.checkpointKnown(checkpoint);
        return checkpoint;
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`could not publish a checkpoint after ${MAX_ATTEMPTS} attempts`);
    }
  }

  /** A checkpoint was stored or read: the reader learns it, and waiters it satisfies are released. */
  private checkpointKnown(checkpoint: StoredCheckpoint): void {
    this.reader.checkpointKnown(checkpoint);
    const latest = this.reader.latestKnown()!;
    const ready = this.waiters.filter((w) => w.size <= latest.size);
    if (ready.length > 0) {
      this.waiters = this.waiters.filter((w) => w.size > latest.size);
      for (const w of ready) w.resolve(latest);
    }
  }
}
