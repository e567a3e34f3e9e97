// The database's state as the logs tell it: one warning when an outage (or a read-only period)
// starts, one line when it ends, however many requests and polls fail or succeed in between,
// including a partial outage where they interleave; a busy database said at most once a minute.
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DatabaseStatus, RECOVERY_QUIET_MS } from '../../src/services/database-status.ts';

function harness() {
  let now = 1_000_000;
  const lines: { level: 'warn' | 'info'; message: string; fields: object }[] = [];
  const status = new DatabaseStatus(
    { warn: (fields, message) => lines.push({ level: 'warn', message, fields }), info: (fields, message) => lines.push({ level: 'info', message, fields }) },
    () => now,
  );
  return { status, lines, advance: (ms: number) => (now += ms) };
}
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('DatabaseStatus', () => {
  it('one warning per outage and one line when it ends, through a partial outage that flaps', () => {
    const { status, lines, advance } = harness();
    for (let i = 0; i < 200; i++) {
      status.failed('unavailable', refused);
      advance(50);
      status.answered(false); // a poll on a surviving session
      advance(50);
    }
    assert.equal(status.state, 'unavailable');
    assert.deepEqual(lines.map((l) => l.level), ['warn']);
    assert.deepEqual(lines[0]!.fields, { err: { message: refused.message, code: 'ECONNREFUSED' } }, 'the error summarised, never the error object');
    advance(RECOVERY_QUIET_MS);
    status.answered(false);
    assert.equal(status.state, 'ok');
    assert.deepEqual(lines.map((l) => l.level), ['warn', 'info']);
    status.answered(false);
    assert.equal(lines.length, 2);
  });

  it('sessions terminated while a standby refuses writes: each failing state said once per outage, however often it flips', () => {
    const { status, lines, advance } = harness();
    const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const readOnly = Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' });
    for (let i = 0; i < 5; i++) {
      status.failed('unavailable', terminated);
      status.failed('read_only', readOnly);
    }
    assert.equal(status.state, 'read_only');
    assert.deepEqual(lines.map((l) => l.message.split(':')[0]), ['the database is unavailable', 'the database is read-only']);
    advance(RECOVERY_QUIET_MS);
    status.answered(false);
    assert.equal(status.state, 'ok');
    // A new outage is said again.
    status.failed('unavailable', terminated);
    assert.deepEqual(lines.map((l) => l.level), ['warn', 'warn', 'info', 'warn']);
  });

  it('read-only: one warning, reads answering do not end it, writes accepted again do', () => {
    const { status, lines, advance } = harness();
    status.answered(true);
    for (let i = 0; i < 50; i++) {
      status.failed('read_only', new Error('cannot execute INSERT in a read-only transaction'));
      status.answered(true);
      advance(100);
    }
    assert.equal(status.state, 'read_only');
    assert.equal(lines.filter((l) => l.level === 'warn').length, 1);
    advance(RECOVERY_QUIET_MS);
    status.answered(false);
    assert.equal(status.state, 'ok');
    assert.deepEqual(lines.map((l) => l.level), ['warn', 'info']);
  });

  it('busy is no outage: said at most once a minute, state unchanged', () => {
    const { status, lines, advance } = harness();
    for (let i = 0; i < 100; i++) {
      status.failed('busy', new Error('canceling statement due to statement timeout'));
      advance(1000);
    }
    assert.equal(status.state, 'ok');
    assert.equal(lines.length, 2);
  });
});
