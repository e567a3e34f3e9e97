// The log's side of C2SP tlog-witness: each configured witness is sent the newest committed
// checkpoint (a row of tlog_checkpoints, never a signing batch's prediction), in increasing size,
// with a consistency proof from the size it last cosigned, at most one request per witness in
// flight across every instance (a lease in witness_state) and no more often than its pace. What it
// answers decides what happens next (research: witness-tiles-python.md §A.2):
//   200        its cosignature lines, each checked like a verifier checks them, then stored;
//   409 + text/x.tlog.size   it holds another size: resync to it and ask again at once (a size
//              beyond our tree is an alarm: a bare number proves nothing, so it never stops us);
//   409 other, 422           a fork (same size, other root) or a proof it refused: an alarm, and
//              that checkpoint is never sent to it again;
//   403, 404   it does not know this log; 429 pushback; anything else, unreachable: asked again
//              later, backing off.
// Alarms are appended to witness_alarms, logged once each, and reported by /readyz and metrics;
// none of them takes the service down. docs/design/log.md, "Witnesses".
import { createHash, randomUUID } from 'node:crypto';
import { formatAddCheckpoint, parseCosignatureLines, parseTlogSize, TLOG_SIZE_MEDIA_TYPE } from '../core/tlog/add-checkpoint.ts';
import { parseCheckpoint } from '../core/tlog/checkpoint.ts';
import { verifyCosignature, type WitnessKey } from '../core/tlog/cosignature.ts';
import { keyIdHex } from '../core/tlog/vkey.ts';
import type { Database } from '../db/client.ts';
import { latestCheckpoint, readTree, type CheckpointRow } from '../db/log-store.ts';
import { verifyCheckpoint } from '../core/tlog/log-note.ts';
import type { PublicKey } from '../core/keys/key.ts';
import type { AppendGuard } from './append-guard.ts';
import { checkpointOf, ensureWitnessStates, leaseWitness, recordWitnessAlarm, settleWitness, storeCosignature, targetWitness, witnessStates, type WitnessOutcome, type WitnessStateRow } from '../db/witness-store.ts';
import type { LogReader } from './log-reader.ts';
import type { Clock } from './support/clock.ts';

/** A witness to submit to, as configured (config.ts, MODELSIGN_WITNESS_POLICY). */
export interface WitnessTarget {
  name: string;
  key: WitnessKey;
  /** The submission prefix: requests go to `<url>/add-checkpoint`. */
  url: string;
  paceMs: number;
}

export type WitnessAlarmKind = 'fork' | 'proof-refused' | 'ahead' | 'bad-answer' | 'unknown-log' | 'behind-published';

export interface WitnessAlarmEvent {
  witness: string;
  kind: WitnessAlarmKind;
  size: number | null;
  detail: string;
}

export interface WitnessClientOptions {
  requestTimeoutMs: number;
  /** The log's keys (any that signed checkpoints): a checkpoint a witness serves is evidence only when one of them signed it. */
  logKeys(): PublicKey[];
  /** Stops appending when a published checkpoint is larger than the tree here. */
  guard: AppendGuard;
  /** How long a lease holds if its instance dies mid-request. */
  leaseMs?: number;
  /** The HTTP client (tests pass one that records). */
  fetch?: typeof fetch;
  alarm(event: WitnessAlarmEvent): void;
}

const keyIdOf = (t: WitnessTarget) => keyIdHex(t.key.keyId);
const MAX_BACKOFF_MS = 5 * 60_000;
// Not knowing this log is a configuration matter on the witness's side (or it was just told of
// us): ask again every six paces, between 10 s and a minute.
const unknownLogRetryMs = (paceMs: number) => Math.min(60_000, Math.max(10_000, 6 * paceMs));

export class WitnessClient {
  private readonly owner = randomUUID();
  private readonly fetch: typeof fetch;
  /** Alarms raised since this instance started, by witness and kind (what /readyz and metrics report). */
  readonly alarms = new Map<string, WitnessAlarmEvent>();
  private started = false;

  constructor(
    private readonly db: Database,
    private readonly log: LogReader,
    private readonly clock: Clock,
    readonly targets: readonly WitnessTarget[],
    private readonly options: WitnessClientOptions,
  ) {
    this.fetch = options.fetch ?? fetch;
  }

  /** Rows for witnesses met for the first time (old size 0: first contact). */
  async start(): Promise<void> {
    await ensureWitnessStates(this.db, this.targets.map((t) => ({ name: t.name, keyId: keyIdOf(t) })), this.clock.now());
    this.started = true;
  }

  /**
   * Looks at each witness's monitoring endpoint (C2SP tlog-witness: `GET <prefix>/<hex SHA-256 of
   * the origin>/checkpoint`, the newest checkpoint it cosigned) for a checkpoint of this log, signed
   * by one of its keys, larger than `treeSize`: evidence that this database is behind what was
   * published (the guard then stops appending). Run at start before anything is appended, and when
   * a witness says it holds a larger size. A witness that does not answer proves nothing.
   */
  async checkPublished(treeSize: number, only?: WitnessTarget): Promise<void> {
    const origin = this.log.origin;
    const path = `/${createHash('sha256').update(origin).digest('hex')}/checkpoint`;
    await Promise.all(
      (only ? [only] : this.targets).map(async (target) => {
        let note: string;
        try {
          const res = await this.fetch(`${target.url}${path}`, { signal: AbortSignal.timeout(Math.min(this.options.requestTimeoutMs, 5_000)) });
          if (res.status !== 200) return;
          note = (await res.text()).slice(0, 512 * 1024);
        } catch {
          return;
        }
        for (const key of this.options.logKeys()) {
          let checkpoint;
          try {
            checkpoint = verifyCheckpoint(note, key);
          } catch {
            continue;
          }
          if (checkpoint.origin !== origin || checkpoint.size <= treeSize) return;
          this.options.guard.stop({ size: checkpoint.size, treeSize, source: `witness ${target.name}'s monitoring endpoint` });
          await this.raise(target, 'behind-published', checkpoint.size, `witness ${target.name} serves a checkpoint of this log of size ${checkpoint.size}, signed by its key, but this database holds a tree of ${treeSize}: restored from an older backup? Appending is stopped (503 log_behind_published) so the log cannot fork`);
          return;
        }
      }),
    );
  }

  async states(): Promise<WitnessStateRow[]> {
    return witnessStates(this.db);
  }

  /** The periodic task: every witness due a request gets one (concurrently; each under its lease). */
  async runDue(): Promise<void> {
    if (!this.started) return;
    // One newest checkpoint for every witness due in this look, so they are sent the same one.
    let newest: Promise<CheckpointRow | undefined> | undefined;
    const newestOnce = () => (newest ??= latestCheckpoint(this.db));
    await Promise.all(this.targets.map((t) => this.submitIfDue(t, newestOnce)));
  }

  private async submitIfDue(target: WitnessTarget, newestOnce: () => Promise<CheckpointRow | undefined>): Promise<void> {
    const id = { name: target.name, keyId: keyIdOf(target) };
    const now = this.clock.now();
    const state = await leaseWitness(this.db, id, this.owner, now, new Date(now.getTime() + (this.options.leaseMs ?? this.options.requestTimeoutMs * 3)));
    if (!state) return;
    let outcome: WitnessOutcome;
    try {
      outcome = await this.submit(target, state, await newestOnce());
    } catch (err) {
      outcome = this.retryLater(state, target, 'unreachable', err instanceof Error ? err.message : String(err));
    }
    await settleWitness(this.db, id, this.owner, outcome, this.clock.now());
  }

  private retryLater(state: WitnessStateRow, target: WitnessTarget, status: string, detail: string, minMs = 0): WitnessOutcome {
    const failures = state.failures + 1;
    const wait = Math.min(MAX_BACKOFF_MS, Math.max(minMs, target.paceMs * 2 ** Math.min(failures, 10)));
    return { status, detail, failures, nextAt: new Date(this.clock.now().getTime() + wait) };
  }

  /**
   * The next request on the pace's grid (multiples of the pace since the epoch): witnesses of the
   * same pace are then due together and are sent the same checkpoint, so a quorum forms within one
   * pace of signing. Requests keep one per pace on average; one may start up to a look
   * (witnessIntervalMs) less than a pace after the one before.
   */
  private paced(target: WitnessTarget, o: Omit<WitnessOutcome, 'nextAt' | 'failures'>, immediately = false): WitnessOutcome {
    const now = this.clock.now().getTime();
    return { ...o, failures: 0, nextAt: new Date(immediately ? now : (Math.floor(now / target.paceMs) + 1) * target.paceMs) };
  }

  private async raise(target: WitnessTarget, kind: WitnessAlarmKind, size: number | null, detail: string): Promise<void> {
    const event = { witness: target.name, kind, size, detail };
    const key = `${target.name}|${kind}|${size}`;
    if (this.alarms.has(key)) return;
    this.alarms.set(key, event);
    await recordWitnessAlarm(this.db, event, this.clock.now());
    this.options.alarm(event);
  }

  /**
   * The checkpoint to send: one another witness was sent or cosigned and this one has not (so the
   * witnesses' cosignatures meet on one size and form a quorum), else the newest. Witnesses are
   * paced independently; without this each would cosign whatever was newest when it was due, and
   * a log that keeps growing would rarely have one size cosigned by a quorum.
   */
  private async checkpointFor(target: WitnessTarget, state: WitnessStateRow, newest: CheckpointRow | undefined): Promise<CheckpointRow | undefined> {
    if (!newest) return undefined;
    const own = Math.max(state.cosignedSize ?? 0, state.refusedSize ?? 0);
    const others = (await witnessStates(this.db)).filter((s) => !(s.name === target.name && s.keyId === keyIdOf(target)));
    const joined = others.flatMap((s) => [s.targetSize, s.cosignedSize]).filter((n): n is number => n !== null && n > own && n >= state.oldSize && n <= newest.size);
    if (joined.length === 0) return newest;
    const size = Math.max(...joined);
    return size === newest.size ? newest : ((await checkpointOf(this.db, size, newest.kid)) ?? newest);
  }

  private async submit(target: WitnessTarget, state: WitnessStateRow, newest: CheckpointRow | undefined): Promise<WitnessOutcome> {
    const row = await this.checkpointFor(target, state, newest);
    if (!row) return this.paced(target, { status: state.status, detail: state.detail });
    const checkpoint = parseCheckpoint(row.note.slice(0, row.note.lastIndexOf('\n\n') + 1));
    // Nothing new for it, or a checkpoint it refused as a fork: never sent again.
    if ((state.cosignedSize !== null && row.size <= state.cosignedSize && state.oldSize >= row.size) || (state.refusedSize !== null && row.size <= state.refusedSize)) {
      return this.paced(target, { status: state.status, detail: state.detail });
    }
    if (state.oldSize > row.size) {
      await this.raise(target, 'ahead', state.oldSize, `witness ${target.name} holds size ${state.oldSize} for this log, larger than its newest checkpoint (${row.size}): a tree of ours was published that this database does not have (restored from an older backup?)`);
      return this.paced(target, { status: 'ahead', detail: `holds size ${state.oldSize}` });
    }
    await targetWitness(this.db, { name: target.name, keyId: keyIdOf(target) }, this.owner, row.size);
    const proof = state.oldSize > 0 && state.oldSize < row.size ? await this.log.consistencyProof(state.oldSize, row.size) : [];
    const body = formatAddCheckpoint({ oldSize: state.oldSize, proof, note: row.note });
    const response = await this.fetch(`${target.url}/add-checkpoint`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      signal: AbortSignal.timeout(this.options.requestTimeoutMs),
    });
    const text = (await response.text()).slice(0, 512 * 1024);
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (response.status === 200) {
      let cosigned: number | undefined;
      try {
        for (const { line, signature } of parseCosignatureLines(text)) {
          if (signature.name !== target.key.name || signature.keyId !== target.key.keyId) continue;
          const timestamp = verifyCosignature(target.key, signature.signature, checkpoint, row.note.slice(0, row.note.lastIndexOf('\n\n') + 1), Math.floor(this.clock.now().getTime() / 1000));
          await storeCosignature(this.db, { witness: target.name, keyId: keyIdOf(target), size: row.size, kid: row.kid, line, timestamp }, this.clock.now());
          cosigned = timestamp;
        }
      } catch (err) {
        await this.raise(target, 'bad-answer', row.size, `witness ${target.name} answered size ${row.size} with a cosignature that does not verify: ${err instanceof Error ? err.message : String(err)}`);
        return this.retryLater(state, target, 'bad-answer', 'a cosignature that does not verify');
      }
      if (cosigned === undefined) {
        await this.raise(target, 'bad-answer', row.size, `witness ${target.name} answered size ${row.size} without a cosignature by its key ${keyIdOf(target)}`);
        return this.retryLater(state, target, 'bad-answer', 'no cosignature by its key');
      }
      return this.paced(target, { oldSize: row.size, cosignedSize: row.size, cosignedAt: cosigned, status: 'ok', detail: null });
    }
    if (response.status === 409 && type === TLOG_SIZE_MEDIA_TYPE) {
      const size = parseTlogSize(text);
      if (size > row.size) {
        // A bare number proves nothing; the witness's own copy, signed by our key, does.
        await this.checkPublished((await readTree(this.db)).size, target);
        await this.raise(target, 'ahead', size, `witness ${target.name} holds size ${size} for this log, larger than its newest checkpoint (${row.size}): a tree of ours was published that this database does not have (restored from an older backup?)`);
        return this.paced(target, { oldSize: size, status: 'ahead', detail: `holds size ${size}` });
      }
      // Resync: its size is where the next proof starts; asked again at once.
      return this.paced(target, { oldSize: size, status: 'resync', detail: `held size ${size}` }, true);
    }
    if (response.status === 409 || response.status === 422) {
      const kind = response.status === 422 ? 'proof-refused' : 'fork';
      await this.raise(target, kind, row.size, `witness ${target.name} refused checkpoint ${row.size} (${response.status}${text ? `: ${text.trim().slice(0, 200)}` : ''}): it holds another tree of this log (a fork) or refused our consistency proof`);
      return this.paced(target, { refusedSize: row.size, status: kind, detail: `${response.status} on size ${row.size}` });
    }
    if (response.status === 403 || response.status === 404) {
      await this.raise(target, 'unknown-log', null, `witness ${target.name} answered ${response.status}: it does not know this log or its key (ask its operator to add the vkey at /v1/log/vkey)`);
      return this.retryLater(state, target, 'unknown-log', `${response.status}`, unknownLogRetryMs(target.paceMs));
    }
    if (response.status === 429) return this.retryLater(state, target, 'pushback', '429');
    return this.retryLater(state, target, 'unreachable', `HTTP ${response.status}`);
  }
}
