// Keeps an instance's caches in step with changes other instances make: reads the state epoch
// and, when it moved, publishes `elsewhere` (state-changes.ts). One indexed read per check; the
// composition root checks every MODELSIGN_STATE_POLL_MS.
import type { Database } from '../db/client.ts';
import { readState } from '../db/state-epoch.ts';
import { singleFlight, type SingleFlight } from './support/periodic.ts';
import type { StateChanges } from './state-changes.ts';

export class StateWatcher {
  private epoch: bigint | undefined;
  /** Checks now; resolves once caches reflect every change committed before the call. */
  readonly check: SingleFlight<void>;

  constructor(
    private readonly db: Database,
    private readonly changes: StateChanges,
    /** Told each poll whether the database refuses writes (the poll doubles as the health check). */
    private readonly onAnswer: (readOnly: boolean) => void = () => {},
  ) {
    this.check = singleFlight(async () => {
      const { epoch, readOnly } = await readState(this.db.prisma);
      this.onAnswer(readOnly);
      if (epoch === this.epoch) return;
      await this.changes.publish({ what: 'elsewhere' });
      this.epoch = epoch;
    });
  }

  /** Takes the current epoch as the one the caches reflect (they were just loaded). */
  async start(): Promise<void> {
    const { epoch, readOnly } = await readState(this.db.prisma);
    this.onAnswer(readOnly);
    this.epoch = epoch;
  }
}
