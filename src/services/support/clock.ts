// Time comes from here so tests can move it (scheduled rotation, expiry) without waiting. Every
// instant the service compares with a signed or stored time is read from the one Clock that
// createServices is given (app.services.clock); systemClock is the only wall-clock read in
// services/ and server/. Durations that are never compared with such a time use the monotonic
// performance.now(), and say so where they read it (docs/design/README.md, "Time").
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
