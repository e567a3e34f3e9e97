// The tables of trusted publishing: OIDC issuers, trusted-publisher rules, and the exchanges
// (one row per ID token exchanged; its unique (issuer, jti) is what makes a token usable once).
import { isIssuerKind, type IssuerKind } from '../core/oidc/rules.ts';
import type { Prisma, Tx } from './client.ts';

export interface IssuerRow {
  id: string;
  url: string;
  kind: IssuerKind;
  jwksUri: string;
  algorithms: string[];
  maxTokenAgeS: number;
  createdAt: Date;
}

const ISSUER_FIELDS = { id: true, url: true, kind: true, jwksUri: true, algorithms: true, maxTokenAgeS: true, createdAt: true } as const;

export async function insertIssuer(tx: Tx, row: IssuerRow): Promise<void> {
  await tx.oidcIssuer.create({ data: row });
}

/** The issuers in use (not deleted), oldest first. */
export async function liveIssuers(session: Tx): Promise<IssuerRow[]> {
  return (await session.oidcIssuer.findMany({ where: { deletedAt: null }, orderBy: { createdAt: 'asc' }, select: ISSUER_FIELDS })).flatMap((r) => issuerRow(r) ?? []);
}

export async function findLiveIssuer(session: Tx, idOrUrl: string, byId: boolean): Promise<IssuerRow | undefined> {
  const row = await session.oidcIssuer.findFirst({ where: { deletedAt: null, ...(byId ? { id: idOrUrl } : { url: idOrUrl }) }, select: ISSUER_FIELDS });
  return row ? issuerRow(row) : undefined;
}

/**
 * The row with its kind typed. The column's check admits only the kinds core knows; a row of a
 * kind a newer version added (read after a downgrade) is left out: this version cannot match it.
 */
function issuerRow(row: Omit<IssuerRow, 'kind'> & { kind: string }): IssuerRow | undefined {
  return isIssuerKind(row.kind) ? { ...row, kind: row.kind } : undefined;
}

export async function markIssuerDeleted(tx: Tx, id: string, at: Date): Promise<void> {
  await tx.oidcIssuer.update({ where: { id }, data: { deletedAt: at } });
}

export interface RuleRow {
  id: string;
  publisherId: string;
  issuerId: string;
  namespaces: string[];
  conditions: unknown;
  publicRepository: boolean;
  createdAt: Date;
}

const RULE_FIELDS = { id: true, publisherId: true, issuerId: true, namespaces: true, conditions: true, publicRepository: true, createdAt: true } as const;

export async function insertRule(tx: Tx, row: RuleRow): Promise<void> {
  await tx.trustedPublisher.create({ data: { ...row, conditions: row.conditions as Prisma.InputJsonValue } });
}

export async function countLiveRules(session: Tx, where: { issuerId: string }): Promise<number> {
  return session.trustedPublisher.count({ where: { ...where, deletedAt: null } });
}

/** A publisher's live rules, oldest first. */
export async function liveRulesOfPublisher(session: Tx, publisherId: string): Promise<RuleRow[]> {
  return session.trustedPublisher.findMany({ where: { publisherId, deletedAt: null }, orderBy: { createdAt: 'asc' }, select: RULE_FIELDS });
}

/** An issuer's live rules with what the exchange needs of their publishers, oldest first. */
/** A live rule with what the exchange needs of its publisher. */
export type LiveRuleRow = RuleRow & { publisherName: string; publisherDisabled: boolean };

export async function liveRulesOfIssuer(session: Tx, issuerId: string): Promise<LiveRuleRow[]> {
  const rows = await session.trustedPublisher.findMany({
    where: { issuerId, deletedAt: null },
    orderBy: { createdAt: 'asc' },
    select: { ...RULE_FIELDS, publisher: { select: { name: true, disabledAt: true } } },
  });
  return rows.map(({ publisher, ...r }) => ({ ...r, publisherName: publisher.name, publisherDisabled: publisher.disabledAt !== null }));
}

export async function findLiveRule(session: Tx, id: string): Promise<RuleRow | undefined> {
  return (await session.trustedPublisher.findFirst({ where: { id, deletedAt: null }, select: RULE_FIELDS })) ?? undefined;
}

export async function markRuleDeleted(tx: Tx, id: string, at: Date): Promise<void> {
  await tx.trustedPublisher.update({ where: { id }, data: { deletedAt: at } });
}

/**
 * Pins ids a rule left empty, if the rule is still as it was read (`expected`): true when it was.
 * Two first exchanges racing pin once; the loser's transaction is refused and its token not minted.
 */
export async function pinRule(tx: Tx, id: string, expected: unknown, pinned: unknown): Promise<boolean> {
  const changed = await tx.$executeRaw`UPDATE "trusted_publishers" SET "conditions" = ${JSON.stringify(pinned)}::jsonb
    WHERE "id" = ${id}::uuid AND "deleted_at" IS NULL AND "conditions" = ${JSON.stringify(expected)}::jsonb`;
  return changed === 1;
}

export interface ExchangeRow {
  id: string;
  issuer: string;
  jti: string;
  ruleId: string;
  publisherId: string;
  identity: unknown;
  tokenIssuedAt: Date;
  tokenExpiresAt: Date;
}

/** Records an exchange; false when this (issuer, jti) was exchanged before (by any instance). */
export async function insertExchange(tx: Tx, row: ExchangeRow): Promise<boolean> {
  const inserted = await tx.$executeRaw`INSERT INTO "oidc_exchanges" ("id", "issuer", "jti", "rule_id", "publisher_id", "identity", "token_issued_at", "token_expires_at")
    VALUES (${row.id}::uuid, ${row.issuer}, ${row.jti}, ${row.ruleId}::uuid, ${row.publisherId}::uuid, ${JSON.stringify(row.identity)}::jsonb, ${row.tokenIssuedAt}, ${row.tokenExpiresAt})
    ON CONFLICT ("issuer", "jti") DO NOTHING`;
  return inserted === 1;
}
