// The admin console's sign-in: a pasted admin or auditor token, kept in sessionStorage only (gone
// when the tab closes; never a cookie, never localStorage), checked by the API before it is kept,
// and cleared on sign-out or when the API says it expired or was revoked.
import { ApiError, call } from './api-client.ts';

const KEY = 'modelsign.console.token';

export interface Session {
  token: string;
  role: string;
  subject: string;
  /** Seconds since the epoch (the JWT's exp; shown, not trusted: the API checks every call). */
  expiresAt: number;
}

function claimsOf(token: string): { role?: unknown; sub?: unknown; exp?: unknown } | undefined {
  const part = token.split('.')[1];
  if (!part || !/^[A-Za-z0-9_-]+$/.test(part)) return undefined;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4));
    return JSON.parse(json) as { role?: unknown; sub?: unknown; exp?: unknown };
  } catch {
    return undefined;
  }
}

function sessionOf(token: string): Session | undefined {
  const claims = claimsOf(token);
  if (!claims || typeof claims.role !== 'string' || typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return undefined;
  return { token, role: claims.role, subject: claims.sub, expiresAt: claims.exp };
}

/** The signed-in session, or undefined (an unreadable or expired token is dropped). */
export function currentSession(): Session | undefined {
  const token = sessionStorage.getItem(KEY);
  if (!token) return undefined;
  const session = sessionOf(token);
  if (session && session.expiresAt * 1000 > Date.now()) return session;
  sessionStorage.removeItem(KEY);
  return undefined;
}

/** Asks the API whether the token may read the audit trail (admins and auditors may); keeps it if so. */
export async function signIn(pasted: string): Promise<Session> {
  const token = pasted.trim().replace(/^Bearer\s+/i, '');
  const session = sessionOf(token);
  if (!session) throw new Error('That is not a modelsign token (a JWT of three dot-separated parts).');
  await call('GET', '/v1/admin/audit?limit=1', { token });
  sessionStorage.setItem(KEY, token);
  return session;
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}

/** "59 min left", "2 d 3 h left", "expired". */
export function lifetime(session: Session, now = Date.now()): string {
  const s = Math.floor(session.expiresAt - now / 1000);
  if (s <= 0) return 'expired';
  if (s < 3600) return `${Math.max(1, Math.floor(s / 60))} min left`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min left`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h left`;
}

// What the API says of the caller's own token, as opposed to a 401 about what was asked for
// (issuing a token for a disabled publisher is a 401 publisher_disabled, yet the session is fine).
const SESSION_ENDED = new Set(['token_missing', 'token_malformed', 'token_invalid', 'token_expired', 'token_revoked']);

/** An API call with the session's token; a refused token ends the session. */
export async function adminCall<T>(session: Session, method: string, path: string, body?: unknown): Promise<T> {
  try {
    return await call<T>(method, path, { token: session.token, ...(body !== undefined ? { body } : {}) });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && SESSION_ENDED.has(err.code)) signOut();
    throw err;
  }
}
