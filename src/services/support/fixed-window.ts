// Counts per key in fixed windows, in memory, for limits one instance enforces alone (the public
// and token limits without Redis, the refused-authentication cap, ID-token exchanges). Memory
// stays bounded under a flood of new keys: past `maxKeys` everything is forgotten rather than
// grown. Window ends are instants on the service's clock (the injected one), the same clock every
// other time decision uses; the sweep is only housekeeping, so a timer is fine for it.
import type { Clock } from './clock.ts';

export class FixedWindows {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
    private readonly clock: Clock,
  ) {
    this.sweep = setInterval(() => {
      const now = this.clock.now().getTime();
      for (const [key, w] of this.windows) if (this.ended(w, now)) this.windows.delete(key);
    }, windowMs);
    this.sweep.unref();
  }

  /** Counts one hit on `key`: the count in the current window and the whole seconds until it ends. */
  hit(key: string): { count: number; retryAfterSeconds: number } {
    const now = this.clock.now().getTime();
    let w = this.windows.get(key);
    if (!w || this.ended(w, now)) {
      if (this.windows.size >= this.maxKeys) this.windows.clear();
      this.windows.set(key, (w = { count: 0, resetAt: now + this.windowMs }));
    }
    w.count++;
    return { count: w.count, retryAfterSeconds: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  close(): void {
    clearInterval(this.sweep);
  }

  // A window also ends when the clock has been set back past its start (an NTP step, an operator
  // fixing the time): otherwise a key would stay limited for as long as the clock was wrong.
  private ended(w: { resetAt: number }, now: number): boolean {
    return w.resetAt <= now || w.resetAt - now > this.windowMs;
  }
}
