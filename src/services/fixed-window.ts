// Counts per key in fixed windows, in memory, for limits one instance enforces alone (the public
// and token limits without Redis, the refused-authentication cap). Memory stays bounded under a
// flood of new keys: past `maxKeys` everything is forgotten rather than grown.
export class FixedWindows {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
    }, windowMs);
    this.sweep.unref();
  }

  /** Counts one hit on `key`: the count in the current window and the whole seconds until it ends. */
  hit(key: string): { count: number; retryAfterSeconds: number } {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      if (this.windows.size >= this.maxKeys) this.windows.clear();
      this.windows.set(key, (w = { count: 0, resetAt: now + this.windowMs }));
    }
    w.count++;
    return { count: w.count, retryAfterSeconds: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  close(): void {
    clearInterval(this.sweep);
  }
}
