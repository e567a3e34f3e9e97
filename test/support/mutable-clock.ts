// A clock a test sets and advances (the services take a Clock; production passes the system one).
// Its own file so that tests which need no database (the quick tier) can import it.
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
