// Recognising database errors that callers turn into answers rather than failures.
import { Prisma } from '../generated/prisma/client.ts';

/** A unique constraint was violated (Prisma's P2002, or PostgreSQL's 23505 from raw SQL). */
export function isUniqueViolation(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (err.code === 'P2002') return true;
    const cause = (err.meta as { driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } } | undefined)?.driverAdapterError?.cause;
    return cause?.originalCode === '23505' || cause?.kind === 'UniqueConstraintViolation';
  }
  return false;
}

/** The database could not be reached or dropped the connection. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientInitializationError) return true;
  if (err instanceof Prisma.PrismaClientKnownRequestError && ['P1001', 'P1002', 'P1017', 'P2024'].includes(err.code)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001', '08003'].includes(code)) return true;
  // pg reports a closed pool and a dropped connection only in its message.
  const message = err instanceof Error ? err.message : '';
  return /Cannot use a pool after calling end|Connection terminated|timeout exceeded when trying to connect/.test(message);
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
