// Time comes from here so tests can move it (scheduled rotation, expiry) without waiting.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
