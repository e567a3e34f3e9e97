// Which database failures are the database's, and of what kind, from every shape they arrive in:
// pg's own errors, Node's socket errors, Prisma's driver-adapter wrapping and Prisma's own codes.
// The error handler answers 503 (unavailable, database_read_only, database_busy) from this alone.
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { databaseFailure, isInvalidTextError } from '../../src/db/errors.ts';
import { Prisma } from '../../src/db/client.ts';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'FATAL' });
const viaAdapter = (code: string, message: string) =>
  new Prisma.PrismaClientKnownRequestError(`Invalid invocation: ${message}`, { code: 'P2010', clientVersion: '7', meta: { driverAdapterError: { cause: { originalCode: code, originalMessage: message, kind: 'postgres' } } } });
const prisma = (code: string) => new Prisma.PrismaClientKnownRequestError('prisma', { code, clientVersion: '7' });

const CASES: [string, unknown, ReturnType<typeof databaseFailure>][] = [
  ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'unavailable'],
  ['connection reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'unavailable'],
  ['terminated by an administrator (restart, failover)', pgError('57P01', 'terminating connection due to administrator command'), 'unavailable'],
  ['starting up', pgError('57P03', 'the database system is starting up'), 'unavailable'],
  ['shutting down', pgError('57P03', 'the database system is shutting down'), 'unavailable'],
  ['in recovery', pgError('57P03', 'the database system is in recovery mode'), 'unavailable'],
  ['too many connections', pgError('53300', 'sorry, too many clients already'), 'unavailable'],
  ['database not accepting connections', pgError('55000', 'database "modelsign" is not currently accepting connections'), 'unavailable'],
  ['connection lost mid-query', new Error('Connection terminated unexpectedly'), 'unavailable'],
  ['pool closed', new Error('Cannot use a pool after calling end on the pool'), 'unavailable'],
  ['database dropped', pgError('3D000', 'database "modelsign" does not exist'), 'unavailable'],
  ['Prisma cannot reach the server', prisma('P1001'), 'unavailable'],
  ['too many connections through the adapter', viaAdapter('53300', 'sorry, too many clients already'), 'unavailable'],
  ['read-only transaction', pgError('25006', 'cannot execute INSERT in a read-only transaction'), 'read_only'],
  ['read-only through the adapter', viaAdapter('25006', 'cannot execute UPDATE in a read-only transaction'), 'read_only'],
  ['read-only in a Prisma message', new Prisma.PrismaClientUnknownRequestError('Raw query failed. Code: `25006`. Message: `read-only`', { clientVersion: '7' }), 'read_only'],
  ['statement timeout', pgError('57014', 'canceling statement due to statement timeout'), 'busy'],
  ['statement timeout through the adapter', viaAdapter('57014', 'canceling statement due to statement timeout'), 'busy'],
  ['pool wait past its limit', new Error('timeout exceeded when trying to connect'), 'busy'],
  ['deadlock', pgError('40P01', 'deadlock detected'), 'busy'],
  ['Prisma pool timeout', prisma('P2024'), 'busy'],
  ['a unique violation is the caller\'s', pgError('23505', 'duplicate key value'), undefined],
  ['a syntax error is a bug', pgError('42601', 'syntax error'), undefined],
  ['an ordinary error is a bug', new TypeError('x is undefined'), undefined],
  ['a wrapped cause counts', Object.assign(new Error('query failed'), { cause: pgError('57P01', 'terminating connection') }), 'unavailable'],
];

describe('databaseFailure', () => {
  for (const [name, err, expected] of CASES) {
    it(`${name} → ${expected ?? 'not the database\'s'}`, () => assert.equal(databaseFailure(err), expected));
  }
  it('NUL in text is bad input, not a database failure', () => {
    const err = pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00');
    assert.equal(isInvalidTextError(err), true);
    assert.equal(databaseFailure(err), undefined);
  });
});
