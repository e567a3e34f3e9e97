// Keeps an instance's caches in step with changes other instances make: polls the state epoch
// and, when it moves, drops cached tokens and reloads keys. One indexed read per interval.
import type { PrismaClient } from '../db/client.ts';
import { readStateEpoch } from './state-epoch.ts';

export class StateWatcher {
  private epoch: bigint | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly intervalMs: number,
    private readonly onChange: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  async start(): Promise<void> {
    this.epoch = await readStateEpoch(this.prisma);
    this.schedule();
  }

  /** Checks now; resolves once caches reflect every change committed before the call. */
  check(): Promise<void> {
    this.running ??= this.poll().finally(() => (this.running = undefined));
    return this.running;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.check()
        .catch(this.onError)
        .finally(() => {
          if (this.timer) this.schedule();
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const epoch = await readStateEpoch(this.prisma);
    if (epoch === this.epoch) return;
    await this.onChange();
    this.epoch = epoch;
  }
}
