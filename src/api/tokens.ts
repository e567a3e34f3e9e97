// How a token is shown (GET /v1/admin/tokens, the console): never the JWT, which is not stored.
import type { IssuedToken, ListedToken } from '../core/tokens.ts';
import type { Wire } from './wire.ts';

type TokenView = Wire['TokenList']['items'][number];

export function tokenView(t: ListedToken): TokenView {
  return {
    jti: t.jti,
    role: t.role,
    subject: t.subject,
    publisher: t.publisher,
    kid: t.kid,
    issuedAt: t.issuedAt.toISOString(),
    expiresAt: t.expiresAt.toISOString(),
    revokedAt: t.revokedAt?.toISOString() ?? null,
    namespaces: t.namespaces,
    status: t.status,
    trustedPublishing: t.exchangeId !== null,
  };
}

/** POST /v1/admin/tokens and `modelsign admin token --json`: the JWT, shown this once. */
export function issuedTokenView(t: IssuedToken): Wire['IssuedToken'] {
  return { token: t.token, jti: t.jti, role: t.role, subject: t.subject, expiresAt: t.expiresAt.toISOString() };
}
