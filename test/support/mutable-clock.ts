// A clock a test sets and advances (the services take a Clock; production passes the system one).
// Its own file so that tests which need no database (the quick tier) can import it.
// A clock made in a describe() body starts when its file is imported, which in a process shared
// with other files (scripts/test.mjs, groups) can be a minute before its tests run: set it to now
// in before() when the tests compare it with the wall clock (tokens signed now, say).
import type { Clock } from '../../src/services/support/clock.ts';

export class MutableClock implements Clock {
  constructor(private current = new Date()) {}
  now(): Date {
    return new Date(this.current);
  }
  set(date: Date): void {
    this.current = new Date(date);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
