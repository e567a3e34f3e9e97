// The tokens table: one row per issued token (its jti, never the JWT), joined with its
// publisher's current state when a request presents it.
import type { AlgorithmId } from '../core/crypto/algorithm.ts';
import type { Role, TokenRecord } from '../core/tokens.ts';
import type { Tx } from './client.ts';
import { signingAlgorithmsOf } from './publisher-store.ts';

export interface TokenRow {
  jti: string;
  role: Role;
  subject: string;
  publisherId: string | null;
  /** kid of the token key that signed the JWT. */
  kid: string;
  issuedAt: Date;
  expiresAt: Date;
  /** The namespaces it may sign under, when narrower than its publisher's (an exchanged token). */
  namespaces?: string[];
  /** The OIDC exchange that minted it. */
  exchangeId?: string | null;
}

export async function insertToken(tx: Tx, row: TokenRow): Promise<void> {
  await tx.token.create({ data: row });
}

/** A token with what authentication needs of its publisher now. */
export interface TokenState {
  role: Role;
  subject: string;
  expiresAt: Date;
  revokedAt: Date | null;
  publisherId: string | null;
  publisherDisabled: boolean;
  namespaces: string[];
  /** The algorithm each namespace signs with. */
  signingAlgorithms: Record<string, AlgorithmId>;
  /** The token's own scope; empty: all of its publisher's namespaces. */
  scope: string[];
  /** For a token trusted publishing minted: its exchange, and whether the rule it matched is deleted. */
  exchange: { id: string; ruleId: string; ruleDeleted: boolean; jti: string; identity: unknown; repositoryPublic: boolean } | null;
}

export async function findTokenState(session: Tx, jti: string): Promise<TokenState | null> {
  const row = await session.token.findUnique({
    where: { jti },
    select: {
      role: true,
      subject: true,
      expiresAt: true,
      revokedAt: true,
      publisherId: true,
      publisher: { select: { disabledAt: true, namespaces: { select: { namespace: true, signingAlgorithm: true } } } },
      namespaces: true,
      exchange: { select: { id: true, jti: true, identity: true, ruleId: true, rule: { select: { deletedAt: true, publicRepository: true } } } },
    },
  });
  return (
    row && {
      role: row.role,
      subject: row.subject,
      expiresAt: row.expiresAt,
      revokedAt: row.revokedAt,
      publisherId: row.publisherId,
      publisherDisabled: row.publisher?.disabledAt != null,
      namespaces: row.publisher?.namespaces.map((n) => n.namespace) ?? [],
      signingAlgorithms: signingAlgorithmsOf(row.publisher?.namespaces ?? []),
      scope: row.namespaces,
      exchange: row.exchange && {
        id: row.exchange.id,
        ruleId: row.exchange.ruleId,
        ruleDeleted: row.exchange.rule.deletedAt !== null,
        jti: row.exchange.jti,
        identity: row.exchange.identity,
        repositoryPublic: row.exchange.rule.publicRepository,
      },
    }
  );
}

/** Whether the token exists (undefined: no such token) and whether it is revoked already. */
export async function findTokenRevocation(tx: Tx, jti: string): Promise<{ revokedAt: Date | null } | undefined> {
  return (await tx.token.findUnique({ where: { jti }, select: { revokedAt: true } })) ?? undefined;
}

export async function markTokenRevoked(tx: Tx, jti: string, at: Date): Promise<void> {
  await tx.token.update({ where: { jti }, data: { revokedAt: at } });
}


/** Newest first (issue time, then jti), `limit` of them, after the position `after` when given. */
export async function listTokenRows(
  session: Tx,
  query: { after?: { issuedAt: Date; jti: string } | undefined; publisherId?: string | undefined; live?: Date | undefined; limit: number },
): Promise<TokenRecord[]> {
  const after = query.after;
  const rows = await session.token.findMany({
    where: {
      ...(query.publisherId !== undefined ? { publisherId: query.publisherId } : {}),
      ...(query.live !== undefined ? { revokedAt: null, expiresAt: { gt: query.live } } : {}),
      ...(after ? { OR: [{ issuedAt: { lt: after.issuedAt } }, { issuedAt: after.issuedAt, jti: { lt: after.jti } }] } : {}),
    },
    orderBy: [{ issuedAt: 'desc' }, { jti: 'desc' }],
    take: query.limit,
    select: { jti: true, role: true, subject: true, kid: true, issuedAt: true, expiresAt: true, revokedAt: true, namespaces: true, exchangeId: true, publisher: { select: { name: true } } },
  });
  return rows.map(({ publisher, ...r }) => ({ ...r, publisher: publisher?.name ?? null }));
}
