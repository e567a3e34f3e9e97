// The background-work helpers every loop of the service goes through: single-flight runs (a
// caller is answered by a run that started after its call; callers during a run share one more),
// joined and rate-limited runs, periodic work that never overlaps itself and stops cleanly.
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { later, periodic, singleFlight } from '../../src/services/support/periodic.ts';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describe('singleFlight', () => {
  it('answers a call made during a run with one more run after it, shared by every such call', async () => {
    const gates = [gate(), gate()];
    let runs = 0;
    const run = singleFlight(async () => {
      const n = runs++;
      await gates[n]!.opened;
      return n;
    });
    const first = run();
    await tick();
    const second = run();
    const third = run();
    assert.equal(second, third, 'calls during a run share the next one');
    gates[0]!.open();
    assert.equal(await first, 0);
    await tick();
    assert.equal(runs, 2, 'the follow-up started after the first run ended, not before');
    gates[1]!.open();
    assert.deepEqual([await second, await third], [1, 1]);
    await run.idle();
    assert.equal(runs, 2, 'no run beyond the ones asked for');
  });

  it('never runs twice at once, and keeps going after a failed run', async () => {
    let running = 0;
    let most = 0;
    let n = 0;
    const run = singleFlight(async () => {
      running++;
      most = Math.max(most, running);
      await tick(5);
      running--;
      if (n++ === 0) throw new Error('first run fails');
      return n;
    });
    const results = await Promise.allSettled([run(), run(), run()]);
    assert.equal(most, 1);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled', 'fulfilled']);
  });

  it('joins a run in progress and skips calls within the minimum interval when asked to', async () => {
    let runs = 0;
    const run = singleFlight(
      async () => {
        runs++;
        await tick(5);
        return runs;
      },
      { whileRunning: 'join', minIntervalMs: 10_000 },
    );
    const a = run();
    const b = run();
    assert.equal(a, b, 'a call during a run gets that run');
    assert.equal(await a, 1);
    assert.equal(await run(), undefined, 'a call within the interval is skipped');
    assert.equal(runs, 1);
  });
});

describe('periodic', () => {
  it('runs every interval without overlapping itself, and stop waits for the run in progress', async () => {
    let runs = 0;
    let running = false;
    let overlapped = false;
    let finished = 0;
    const job = periodic('test', 5, async () => {
      if (running) overlapped = true;
      running = true;
      runs++;
      await tick(15);
      running = false;
      finished++;
    }, () => assert.fail('no error expected'));
    job.start();
    await tick(80);
    await job.stop();
    assert.ok(runs >= 2, `${runs} runs`);
    assert.equal(overlapped, false);
    assert.equal(finished, runs, 'stop returned after the last run finished');
    const after = runs;
    await tick(30);
    assert.equal(runs, after, 'nothing runs after stop');
  });

  it('reports a failed run and goes on', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const job = periodic('failing', 2, async () => {
      runs++;
      throw new Error(`run ${runs}`);
    }, (err) => errors.push(err));
    job.start();
    await tick(40);
    await job.stop();
    assert.ok(runs >= 2 && errors.length === runs);
  });
});

describe('later', () => {
  it('calls once after the delay unless cancelled', async () => {
    let called = 0;
    later(5, () => called++);
    later(5, () => called++).cancel();
    await tick(30);
    assert.equal(called, 1);
  });
});
