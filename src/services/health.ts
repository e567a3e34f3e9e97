// Readiness, defined once for the whole service: an instance is ready while it can serve reads
// (the database answers in time, read-only or not); it can sign when the database also takes
// writes, every key purpose has a usable signer, the key backend (a token) answers, and the checkpointer has seen the log recently.
// 503 only when nothing can be served.
import type { Database } from '../db/client.ts';
import { pingDatabase } from '../db/health.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { DatabaseStatus } from './database-status.ts';
import type { KeyService } from './keys.ts';
import { later } from './support/periodic.ts';
import type { WitnessAlarmEvent, WitnessClient } from './witness-client.ts';
import type { AppendGuard } from './append-guard.ts';

export interface Readiness {
  ready: boolean;
  signing: boolean;
  checks: { database: 'ok' | 'read-only' | 'failing'; keys: 'ok' | 'missing' | 'unavailable'; log: 'ok' | 'behind' | 'behind-published'; witnesses: 'off' | 'ok' | 'alarm' };
  /** What witnesses said that needs a person (forks, a tree ahead of ours, bad answers): reported, never a reason to stop serving. */
  witnessAlarms: WitnessAlarmEvent[];
}

export interface HealthOptions {
  /** How long the database has to answer a ping. */
  pingTimeoutMs: number;
  /** How recently the checkpointer must have seen the log. */
  logCurrentMs: number;
}

export class HealthService {
  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
    private readonly checkpointer: Checkpointer,
    private readonly status: DatabaseStatus,
    private readonly options: HealthOptions,
    private readonly witnesses?: WitnessClient,
    private readonly guard?: AppendGuard,
  ) {}

  async readiness(): Promise<Readiness> {
    let timer: { cancel(): void } | undefined;
    const database = await Promise.race([
      pingDatabase(this.db).then(({ readOnly }) => {
        this.status.answered(readOnly);
        return readOnly ? ('read-only' as const) : ('ok' as const);
      }),
      new Promise<'failing'>((resolve) => (timer = later(this.options.pingTimeoutMs, () => resolve('failing')))),
    ])
      .catch(() => 'failing' as const)
      .finally(() => timer?.cancel());
    const keys = ![...new Set(this.keys.slots.map((s) => s.purpose))].every((p) => this.keys.hasSigner(p)) ? ('missing' as const) : this.keys.backendAvailable() ? ('ok' as const) : ('unavailable' as const);
    const log = this.guard?.publishedAhead ? ('behind-published' as const) : this.checkpointer.isCurrent(this.options.logCurrentMs) ? ('ok' as const) : ('behind' as const);
    const witnessAlarms = [...(this.witnesses?.alarms.values() ?? [])];
    const witnesses = !this.witnesses ? ('off' as const) : witnessAlarms.length > 0 ? ('alarm' as const) : ('ok' as const);
    return { ready: database !== 'failing', signing: database === 'ok' && keys === 'ok' && log === 'ok', checks: { database, keys, log, witnesses }, witnessAlarms };
  }
}
