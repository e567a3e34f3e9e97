// What this instance knows of its database, for readiness and for the logs: serving, read-only,
// or unavailable. Every failure that is the database's (failures.ts) is reported here, from
// requests, background work and the pool alike; the log gets one warning when the state
// changes and one line when it recovers, never one per request or per poll. Within one outage
// (from leaving `ok` to coming back) each failing state is said once: as sessions are terminated
// and a standby refuses writes, in-flight queries fail both ways within milliseconds, and the
// state flips back and forth (seen in CI: unavailable, read-only, unavailable within 11 ms).
import type { DatabaseFailure } from '../db/errors.ts';

export type DatabaseState = 'ok' | 'read_only' | 'unavailable';

export interface StatusLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

const BUSY_WARNING_EVERY_MS = 60_000;
// How long without a failure before an outage counts as over. During a partial outage (some
// pooled sessions alive, new ones refused) successes and failures interleave; without this the
// log would say "down", "back", "down"... once per poll.
export const RECOVERY_QUIET_MS = 2_000;

/** The message and code of an error, never the error object (pg's hold their whole client). */
export function errorSummary(err: unknown): { message: string; code?: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return { message: err instanceof Error ? err.message : String(err), ...(typeof code === 'string' ? { code } : {}) };
}

export class DatabaseStatus {
  private current: DatabaseState = 'ok';
  private since: number;
  private lastFailure = Number.NEGATIVE_INFINITY;
  private busy = 0;
  private lastBusyWarning = Number.NEGATIVE_INFINITY;
  /** The failing states already said during the current outage. */
  private readonly said = new Set<DatabaseState>();

  constructor(
    private readonly log: StatusLog,
    // Durations only (how long a state lasted, quiet time, warning pace), never an instant
    // compared with a stored or signed time: the monotonic clock, unmoved by clock steps.
    private readonly now: () => number = () => performance.now(),
  ) {
    this.since = now();
  }

  get state(): DatabaseState {
    return this.current;
  }

  /** A call failed because of the database. */
  failed(failure: DatabaseFailure, err: unknown): void {
    if (failure === 'busy') {
      // Not an outage: a slow moment. Counted, and said at most once a minute.
      this.busy++;
      if (this.now() - this.lastBusyWarning >= BUSY_WARNING_EVERY_MS) {
        this.lastBusyWarning = this.now();
        this.log.warn({ err: errorSummary(err), refusedSinceLastWarning: this.busy }, 'the database is busy: requests past the statement or connection-wait limit are answered 503 database_busy');
        this.busy = 0;
      }
      return;
    }
    this.lastFailure = this.now();
    this.enter(failure === 'read_only' ? 'read_only' : 'unavailable', err);
  }

  /** The database answered a check; `readOnly`: it refuses writes. */
  answered(readOnly: boolean): void {
    const next = readOnly ? 'read_only' : 'ok';
    // Better (ok after anything, read-only after unavailable) only once failures have stopped.
    const better = next === 'ok' || this.current === 'unavailable';
    if (better && this.now() - this.lastFailure < RECOVERY_QUIET_MS) return;
    this.enter(next, undefined);
  }

  private enter(next: DatabaseState, err: unknown): void {
    if (next === this.current) return;
    const previous = this.current;
    const seconds = Math.round((this.now() - this.since) / 1000);
    this.current = next;
    this.since = this.now();
    if (next !== 'ok') {
      if (this.said.has(next)) return;
      this.said.add(next);
    } else {
      this.said.clear();
    }
    if (next === 'unavailable') {
      this.log.warn({ err: errorSummary(err) }, 'the database is unavailable: requests that need it are answered 503 until it is back (one line per outage)');
    } else if (next === 'read_only') {
      this.log.warn(err === undefined ? {} : { err: errorSummary(err) }, 'the database is read-only: lookups and verification go on, signing and admin changes are answered 503 database_read_only');
    } else {
      this.log.info({ after: `${seconds} s`, was: previous }, 'the database serves reads and writes again');
    }
  }
}
