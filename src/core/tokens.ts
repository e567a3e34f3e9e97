// The vocabulary of bearer tokens: who may hold one and who issues them.

export const ROLES = ['admin', 'publisher', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return (ROLES as readonly unknown[]).includes(value);
}

/** The `iss` claim of every token this service issues. */
export const TOKEN_ISSUER = 'modelsign';

/** What an admin sees of a token: everything but the JWT, which is never stored. */
export interface TokenRecord {
  jti: string;
  role: Role;
  subject: string;
  publisher: string | null;
  kid: string;
  issuedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  namespaces: string[];
  /** The trusted-publishing exchange that minted it; null for a token an admin issued. */
  exchangeId: string | null;
}

type TokenStatus = 'active' | 'expired' | 'revoked';

export function tokenStatus(token: Pick<TokenRecord, 'revokedAt' | 'expiresAt'>, now: Date): TokenStatus {
  return token.revokedAt ? 'revoked' : token.expiresAt.getTime() <= now.getTime() ? 'expired' : 'active';
}

/** A token as the admin list shows it: its record and its status when listed. */
export type ListedToken = TokenRecord & { status: TokenStatus };

/** A token just issued: the JWT, shown this once and never stored. */
export interface IssuedToken {
  token: string;
  jti: string;
  role: Role;
  subject: string;
  expiresAt: Date;
}
