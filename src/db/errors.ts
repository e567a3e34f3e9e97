// Recognising database errors that callers turn into answers rather than failures.
import { Prisma } from '../generated/prisma/client.ts';

/** A unique constraint was violated (Prisma's P2002, or PostgreSQL's 23505 through Prisma or from raw SQL on pg or PGlite). */
export function isUniqueViolation(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (err.code === 'P2002') return true;
    const cause = (err.meta as { driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } } | undefined)?.driverAdapterError?.cause;
    return cause?.originalCode === '23505' || cause?.kind === 'UniqueConstraintViolation';
  }
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/**
 * Why the database could not serve a call, when that is the reason (else undefined):
 * - `unavailable`: unreachable, connection refused, reset or terminated, not accepting
 *   connections, starting up, shutting down, in recovery, out of connection slots, gone;
 * - `read_only`: a read-only transaction refused a write (a standby after failover,
 *   `default_transaction_read_only`);
 * - `busy`: the statement timeout, a lock or connection wait past its limit, a serialization
 *   failure or deadlock: the same request may succeed a moment later.
 * The error arrives from pg directly, through Prisma's driver adapter, or from Prisma itself,
 * each shaped differently; all three are read here and nowhere else.
 */
export type DatabaseFailure = 'unavailable' | 'read_only' | 'busy';

// Class 08 (connection exception) is matched by its prefix.
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '53400', '3D000', '28000', '28P01']);
const BUSY_STATES = new Set(['57014', '55P03', '40001', '40P01']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
const UNAVAILABLE_PRISMA = new Set(['P1001', 'P1002', 'P1003', 'P1017']);
const BUSY_PRISMA = new Set(['P2024', 'P2028', 'P2034']);
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'DatabaseDoesNotExist', 'DatabaseAccessDenied', 'AuthenticationFailed', 'TlsConnectionError']);
// pg reports a closed pool, a dropped connection and a pool wait past its limit only in words.
const UNAVAILABLE_MESSAGE = /Cannot use a pool after calling end|Connection terminated|Client has encountered a connection error|not currently accepting connections|the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)|terminating connection/;
const BUSY_MESSAGE = /timeout exceeded when trying to connect|canceling statement due to statement timeout|Transaction already closed|expired transaction/;

/** The codes an error carries: its own, its cause's, and Prisma's driver-adapter view of it. */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  const add = (v: unknown) => typeof v === 'string' && codes.push(v);
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    add((e as { code?: unknown }).code);
    const cause = ((e as { meta?: { driverAdapterError?: { cause?: Record<string, unknown> } } }).meta?.driverAdapterError?.cause) ?? undefined;
    if (cause) {
      add(cause.originalCode);
      add(cause.code);
      add(cause.kind);
    }
  }
  const message = err instanceof Error ? err.message : '';
  for (const m of message.matchAll(/Code: `([0-9A-Z]{5})`/g)) codes.push(m[1]!);
  return codes;
}

export function databaseFailure(err: unknown): DatabaseFailure | undefined {
  if (err instanceof Prisma.PrismaClientInitializationError) return 'unavailable';
  const codes = codesOf(err);
  if (codes.includes('25006')) return 'read_only';
  if (codes.some((c) => BUSY_STATES.has(c) || BUSY_PRISMA.has(c))) return 'busy';
  if (codes.some((c) => UNAVAILABLE_STATES.has(c) || c.startsWith('08') || SOCKET_CODES.has(c) || UNAVAILABLE_PRISMA.has(c) || UNAVAILABLE_KINDS.has(c))) return 'unavailable';
  const message = err instanceof Error ? err.message : '';
  if (BUSY_MESSAGE.test(message)) return 'busy';
  if (UNAVAILABLE_MESSAGE.test(message)) return 'unavailable';
  return undefined;
}

/** The database could not be reached or dropped the connection (not: read-only, busy). */
export function isConnectionError(err: unknown): boolean {
  return databaseFailure(err) === 'unavailable';
}

/** PostgreSQL refused a value as text (NUL, an invalid byte sequence): bad input, not a failure. */
export function isInvalidTextError(err: unknown): boolean {
  const codes = ['22021', '22P05'];
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    const cause = (err.meta as { driverAdapterError?: { cause?: { originalCode?: string } } } | undefined)?.driverAdapterError?.cause;
    if (cause?.originalCode && codes.includes(cause.originalCode)) return true;
    return codes.some((c) => err.message.includes(`Code: \`${c}\``));
  }
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}
