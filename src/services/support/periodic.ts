// The one place services and the composition root get timers from. Three shapes cover every
// piece of background work modelsign does:
// - singleFlight: at most one run of a task at a time; by default a call made while a run is in
//   progress gets one more run after it (shared by every such call), so whoever calls is answered
//   by a run that started after the call, which is what "seal what I just recorded" or "reload
//   what another instance just changed" need;
// - periodic: a task run every interval, never overlapping itself, stopped and awaited on shutdown;
// - later: one call after a delay, cancellable (a waiter's time limit).
// Every timer is unref'd: background work never keeps a process alive.

export interface SingleFlightOptions {
  /** What a call made during a run gets: one more run after it (`rerun`, default) or that run (`join`). */
  whileRunning?: 'rerun' | 'join';
  /** With `join`: a call less than this long after the last run started is skipped (resolves undefined). */
  minIntervalMs?: number;
}

/** A single-flight task: call it to run (see above); `idle()` settles once no run is in progress or queued. */
export type SingleFlight<R> = (() => Promise<R>) & { idle(): Promise<void> };

export function singleFlight<T>(fn: () => Promise<T>, options?: { whileRunning?: 'rerun' }): SingleFlight<T>;
export function singleFlight<T>(fn: () => Promise<T>, options: { whileRunning: 'join'; minIntervalMs?: number }): SingleFlight<T | undefined>;
export function singleFlight<T>(fn: () => Promise<T>, options: SingleFlightOptions = {}): SingleFlight<T | undefined> {
  let running: Promise<T> | undefined;
  let queued: Promise<T> | undefined;
  // Pacing between runs is a duration, never compared with a stored or signed time: monotonic.
  let startedAt = Number.NEGATIVE_INFINITY;
  const start = (): Promise<T> => {
    startedAt = performance.now();
    const run = fn().finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  };
  const call = () => {
    if (options.whileRunning === 'join') {
      if (running) return running;
      if (options.minIntervalMs !== undefined && performance.now() - startedAt < options.minIntervalMs) return Promise.resolve(undefined);
      return start();
    }
    if (!running) return start();
    queued ??= running.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      queued = undefined;
      return start();
    });
    return queued;
  };
  return Object.assign(call, {
    async idle() {
      for (let pending = queued ?? running; pending; pending = queued ?? running) await pending.catch(() => undefined);
    },
  });
}

export interface Periodic {
  readonly name: string;
  start(): void;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** Runs `task` every `intervalMs` (measured from the end of the previous run) until stopped. */
export function periodic(name: string, intervalMs: number, task: () => Promise<unknown>, onError: (err: unknown) => void): Periodic {
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> | undefined;
  let stopped = true;
  const arm = () => {
    timer = setTimeout(() => {
      current = task()
        .catch(onError)
        .finally(() => {
          current = undefined;
          if (!stopped) arm();
        });
    }, intervalMs);
    timer.unref();
  };
  return {
    name,
    start() {
      if (!stopped) return;
      stopped = false;
      arm();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await current;
    },
  };
}

/** Calls `fn` once after `ms`, unless cancelled first. */
export function later(ms: number, fn: () => void): { cancel(): void } {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
}
