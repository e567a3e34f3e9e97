// The in-memory rate-limit windows: their ends are instants on the injected clock, so a window
// ends when that clock moves (whatever the wall clock does), and a clock set back does not leave
// a key limited for as long as the clock was wrong.
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { FixedWindows } from '../../src/services/support/fixed-window.ts';
import { MutableClock } from '../support/mutable-clock.ts';

// Dates far from today on purpose: FixedWindows reads only the injected clock, so nothing here may
// depend on the wall clock (the file passes under faketime on any date).
function windowsAt(t: TestContext, iso: string, maxKeys = 100) {
  const clock = new MutableClock(new Date(iso));
  const windows = new FixedWindows(60_000, maxKeys, clock);
  t.after(() => windows.close());
  return { clock, windows };
}

describe('FixedWindows', () => {
  it('counts within a window and starts a new one when the injected clock reaches its end', (t) => {
    const { clock, windows } = windowsAt(t, '2041-03-04T05:06:07.000Z');
    assert.deepEqual(windows.hit('a'), { count: 1, retryAfterSeconds: 60 });
    clock.advance(20_500);
    assert.deepEqual(windows.hit('a'), { count: 2, retryAfterSeconds: 40 });
    assert.deepEqual(windows.hit('b'), { count: 1, retryAfterSeconds: 60 }, 'each key has its own window');
    clock.advance(39_499);
    assert.deepEqual(windows.hit('a'), { count: 3, retryAfterSeconds: 1 }, '1 ms left');
    clock.advance(1);
    assert.deepEqual(windows.hit('a'), { count: 1, retryAfterSeconds: 60 }, 'the window ended on the injected clock');
  });

  it('ends a window when the clock is set back before it began', (t) => {
    const { clock, windows } = windowsAt(t, '2030-01-01T00:00:00.000Z');
    windows.hit('a');
    windows.hit('a');
    clock.advance(-10 * 60_000);
    assert.deepEqual(windows.hit('a'), { count: 1, retryAfterSeconds: 60 });
    clock.advance(30_000);
    assert.equal(windows.hit('a').count, 2, 'the new window counts on');
  });

  it('forgets every key past maxKeys rather than growing', (t) => {
    const { windows } = windowsAt(t, '2030-01-01T00:00:00.000Z', 3);
    for (const key of ['a', 'b', 'c']) windows.hit(key);
    windows.hit('a');
    assert.equal(windows.hit('d').count, 1);
    assert.equal(windows.hit('a').count, 1, 'a was forgotten when d came past the bound');
  });
});
