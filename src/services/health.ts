// What readiness asks of an instance: the database answers in time, every key purpose has a
// loaded signer, and the checkpointer has seen the log recently.
import { KEY_PURPOSES } from '../core/keys/key.ts';
import type { Database } from '../db/client.ts';
import { pingDatabase } from '../db/health.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { KeyService } from './keys.ts';
import { later } from './periodic.ts';

export interface Readiness {
  ready: boolean;
  checks: { database: 'ok' | 'failing'; keys: 'ok' | 'missing'; log: 'ok' | 'behind' };
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
    private readonly options: HealthOptions,
  ) {}

  async readiness(): Promise<Readiness> {
    let timer: { cancel(): void } | undefined;
    const database = await Promise.race([
      pingDatabase(this.db).then(() => 'ok' as const),
      new Promise<'failing'>((resolve) => (timer = later(this.options.pingTimeoutMs, () => resolve('failing')))),
    ])
      .catch(() => 'failing' as const)
      .finally(() => timer?.cancel());
    const keys = KEY_PURPOSES.every((p) => this.keys.hasSigner(p)) ? ('ok' as const) : ('missing' as const);
    const log = this.checkpointer.isCurrent(this.options.logCurrentMs) ? ('ok' as const) : ('behind' as const);
    return { ready: database === 'ok' && keys === 'ok' && log === 'ok', checks: { database, keys, log } };
  }
}
