// The key lifecycle rules as tables, with the clock given: which status changes are allowed and
// what they record, what a rotation and a revocation check, and what the schedule makes due.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelsignError } from '../../../src/core/errors.ts';
import { KEY_STATUSES, type KeyPurpose, type KeyStatus } from '../../../src/core/keys/key.ts';
import { canTransition, missingSlots, planRevocation, planRotation, scheduledActions, transition, type KeyState } from '../../../src/core/keys/lifecycle.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const DAY = 86_400_000;
const key = (kid: string, purpose: KeyPurpose, status: KeyStatus, extra: Partial<KeyState> = {}): KeyState => ({
  kid,
  purpose,
  algorithm: 'Ed25519',
  status,
  createdAt: T0,
  activatedAt: status === 'active' ? T0 : null,
  activatesAt: null,
  ...extra,
});
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof ModelsignError, String(err));
    return err.code;
  }
};

describe('key lifecycle rules', () => {
  it('allows exactly pending → active → retired, and any state → revoked', () => {
    const allowed = KEY_STATUSES.flatMap((from) => KEY_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`));
    assert.deepEqual(allowed, ['pending→active', 'pending→revoked', 'active→retired', 'active→revoked', 'retired→revoked']);
  });

  it('records what each transition sets, and refuses the others', () => {
    const now = at(1000);
    const revocation = { compromisedAt: at(500), reason: 'leaked' };
    const cases: [KeyStatus, 'active' | 'retired' | 'revoked', unknown][] = [
      ['pending', 'active', { status: 'active', activatedAt: now, activatesAt: null }],
      ['active', 'retired', { status: 'retired', retiredAt: now }],
      ['active', 'revoked', { status: 'revoked', revokedAt: now, compromisedAt: at(500), reason: 'leaked', activatesAt: null }],
      ['retired', 'revoked', { status: 'revoked', revokedAt: now, compromisedAt: at(500), reason: 'leaked', activatesAt: null }],
      ['pending', 'revoked', { status: 'revoked', revokedAt: now, compromisedAt: at(500), reason: 'leaked', activatesAt: null }],
      ['revoked', 'revoked', 'key_already_revoked'],
      ['revoked', 'active', 'key_already_revoked'],
      ['retired', 'active', 'internal_error'],
      ['active', 'active', 'internal_error'],
      ['pending', 'retired', 'internal_error'],
    ];
    for (const [from, to, expected] of cases) {
      const run = () => (to === 'revoked' ? transition({ kid: 'k', status: from }, to, now, revocation) : transition({ kid: 'k', status: from }, to, now));
      if (typeof expected === 'string') assert.equal(codeOf(run), expected, `${from} → ${to}`);
      else assert.deepEqual(run(), expected, `${from} → ${to}`);
    }
  });

  it('names the slots without an active key, the default release key first, one release slot per algorithm', () => {
    const ed = (p: KeyPurpose) => ({ purpose: p, algorithm: 'Ed25519' });
    const ec = { purpose: 'release', algorithm: 'ECDSA P-256' };
    assert.deepEqual(missingSlots([]), [ed('release'), ec, ed('log'), ed('token')]);
    assert.deepEqual(missingSlots([key('a', 'log', 'active'), key('b', 'release', 'retired')]), [ed('release'), ec, ed('token')]);
    assert.deepEqual(missingSlots([key('a', 'log', 'active'), key('b', 'release', 'active'), key('c', 'token', 'active')]), [ec]);
    assert.deepEqual(missingSlots([key('a', 'log', 'active'), key('b', 'release', 'active'), key('c', 'token', 'active'), key('d', 'release', 'active', { algorithm: 'ECDSA P-256' })]), []);
  });

  it('plans a rotation: the pending key if there is one, and only from the expected active key', () => {
    const keys = [
      key('r1', 'release', 'retired'),
      key('r2', 'release', 'active'),
      key('e1', 'release', 'active', { algorithm: 'ECDSA P-256' }),
      key('e2', 'release', 'pending', { algorithm: 'ECDSA P-256' }),
      key('l1', 'log', 'active'),
      key('l2', 'log', 'pending'),
    ];
    const slot = (purpose: KeyPurpose, algorithm: 'Ed25519' | 'ECDSA P-256' = 'Ed25519') => ({ purpose, algorithm });
    assert.deepEqual(planRotation(keys, slot('release')), { current: 'r2', pending: null });
    assert.deepEqual(planRotation(keys, slot('release', 'ECDSA P-256')), { current: 'e1', pending: 'e2' });
    assert.deepEqual(planRotation(keys, slot('log')), { current: 'l1', pending: 'l2' });
    assert.deepEqual(planRotation(keys, slot('release'), 'r2'), { current: 'r2', pending: null });
    assert.equal(codeOf(() => planRotation(keys, slot('release'), 'r1')), 'rotation_conflict');
    assert.equal(codeOf(() => planRotation(keys, slot('release', 'ECDSA P-256'), 'r2')), 'rotation_conflict');
    assert.equal(codeOf(() => planRotation(keys, slot('token'))), 'key_unavailable');
  });

  it('checks a revocation: the key exists, is not revoked, and was compromised between its creation and now', () => {
    const now = at(10 * DAY);
    const created = at(DAY);
    const cases: [KeyState | undefined, Date, string | { replace: boolean }][] = [
      [key('a', 'release', 'active', { createdAt: created }), at(5 * DAY), { replace: true }],
      [key('a', 'release', 'retired', { createdAt: created }), at(5 * DAY), { replace: false }],
      [key('a', 'release', 'pending', { createdAt: created }), created, { replace: false }],
      [key('a', 'release', 'active', { createdAt: created }), now, { replace: true }],
      [undefined, at(5 * DAY), 'not_found'],
      [key('a', 'release', 'revoked', { createdAt: created }), at(5 * DAY), 'key_already_revoked'],
      [key('a', 'release', 'active', { createdAt: created }), at(11 * DAY), 'invalid_compromise_time'],
      [key('a', 'release', 'active', { createdAt: created }), at(DAY - 1), 'invalid_compromise_time'],
    ];
    for (const [k, compromisedAt, expected] of cases) {
      const run = () => planRevocation(k, 'a', compromisedAt, now);
      if (typeof expected === 'string') assert.equal(codeOf(run), expected, `${k?.status} at ${compromisedAt.toISOString()}`);
      else assert.deepEqual(run(), expected);
    }
  });

  it('makes due what the schedule says, at the time it says', () => {
    const schedule = { every: { release: 90 * DAY, log: 30 * DAY }, prepublishMs: 7 * DAY };
    const active = (purpose: KeyPurpose, activatedAt: Date) => key(`${purpose}-a`, purpose, 'active', { activatedAt });
    const pending = (purpose: KeyPurpose, activatesAt: Date | null) => key(`${purpose}-p`, purpose, 'pending', { activatesAt });
    const cases: [string, KeyState[], Date, unknown[]][] = [
      ['nothing due long before', [active('release', T0), active('log', T0)], at(10 * DAY), []],
      ['just before the prepublish window', [active('release', T0)], at(83 * DAY - 1), []],
      ['prepublish opens', [active('release', T0)], at(83 * DAY), [{ kind: 'prepublish', slot: { purpose: 'release', algorithm: 'Ed25519' }, activatesAt: at(90 * DAY) }]],
      ['a late instance publishes at once, due now', [active('release', T0)], at(95 * DAY), [{ kind: 'prepublish', slot: { purpose: 'release', algorithm: 'Ed25519' }, activatesAt: at(95 * DAY) }]],
      ['a pending key waits for its time', [active('release', T0), pending('release', at(90 * DAY))], at(89 * DAY), []],
      ['a pending key is activated on time', [active('release', T0), pending('release', at(90 * DAY))], at(90 * DAY), [{ kind: 'activate', slot: { purpose: 'release', algorithm: 'Ed25519' }, current: 'release-a', pending: 'release-p' }]],
      ['a pending key without a time is left alone', [active('release', T0), pending('release', null)], at(200 * DAY), []],
      ['purposes without a period never rotate', [active('token', T0)], at(1000 * DAY), []],
      ['no active key, nothing to schedule', [pending('release', at(DAY))], at(2 * DAY), []],
      [
        'release keys of each algorithm on their own clock',
        [active('release', T0), key('ec-a', 'release', 'active', { algorithm: 'ECDSA P-256', activatedAt: at(30 * DAY) })],
        at(90 * DAY),
        [{ kind: 'prepublish', slot: { purpose: 'release', algorithm: 'Ed25519' }, activatesAt: at(90 * DAY) }],
      ],
      [
        'an ECDSA release key due',
        [key('ec-a', 'release', 'active', { algorithm: 'ECDSA P-256', activatedAt: T0 })],
        at(85 * DAY),
        [{ kind: 'prepublish', slot: { purpose: 'release', algorithm: 'ECDSA P-256' }, activatesAt: at(90 * DAY) }],
      ],
      [
        'two purposes due at once, in purpose order',
        [active('log', T0), active('release', T0)],
        at(90 * DAY),
        [
          { kind: 'prepublish', slot: { purpose: 'release', algorithm: 'Ed25519' }, activatesAt: at(90 * DAY) },
          { kind: 'prepublish', slot: { purpose: 'log', algorithm: 'Ed25519' }, activatesAt: at(90 * DAY) },
        ],
      ],
    ];
    for (const [what, keys, now, expected] of cases) assert.deepEqual(scheduledActions(keys, schedule, now), expected, what);
  });
});
