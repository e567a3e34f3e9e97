// Trusted publishing's administration: the OIDC issuers this service accepts (discovery fetched
// once, when one is added) and each publisher's trusted-publisher rules. Every change commits with
// its audit event and publishes `trusted-publishing` (state-changes.ts): the exchange re-reads its
// issuers, and tokens minted under a removed rule are refused. See docs/design/trusted-publishing.md.
import { randomUUID } from 'node:crypto';
import { parseDuration } from '../core/duration.ts';
import { ModelsignError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import type { OidcIssuer, TrustedPublisherRecord } from '../core/oidc/records.ts';
import { ISSUER_KINDS, isIssuerKind, parseRule, type IssuerKind, type TrustedPublisherRule } from '../core/oidc/rules.ts';
import { recordAudit } from '../db/audit-store.ts';
import type { Database } from '../db/client.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { countLiveRules, findLiveIssuer, findLiveRule, insertIssuer, insertRule, liveIssuers, liveRulesOfPublisher, markIssuerDeleted, markRuleDeleted, type IssuerRow, type RuleRow } from '../db/oidc-store.ts';
import { bumpStateEpoch } from '../db/state-epoch.ts';
import type { Clock } from './support/clock.ts';
import { discoverIssuer, type Fetch } from './oidc-keys.ts';
import { ALLOWED_ID_TOKEN_ALGS } from './oidc-exchange.ts';
import type { PublisherService } from './publishers.ts';
import type { StateChanges } from './state-changes.ts';

const DEFAULT_MAX_AGE_S: Record<IssuerKind, number> = { github: 15 * 60, gitlab: 60 * 60, generic: 60 * 60 };

export interface IssuerInput {
  url: string;
  kind: IssuerKind;
  /** A duration (`15m`): ID tokens older than this (by iat) are refused. Defaults: github 15m, gitlab 60m, generic 60m. */
  maxTokenAge?: string | undefined;
  /** JWS algorithms accepted; default RS256 (github, gitlab), or what discovery lists among the allowed ones. */
  algorithms?: string[] | undefined;
}

export interface RuleInput {
  /** The issuer's URL (or id). */
  issuer: string;
  namespaces: string[];
  /** Whether the public signature route may name the repository. */
  publicRepository?: boolean | undefined;
  github?: unknown;
  gitlab?: unknown;
  generic?: unknown;
}

export interface TrustedPublisherAdminOptions {
  /** MODELSIGN_OIDC_ALLOW_INSECURE: http issuers (tests only). */
  allowInsecure: boolean;
  fetch?: Fetch | undefined;
}

const issuerOf = (row: IssuerRow): OidcIssuer => ({
  id: row.id,
  url: row.url,
  kind: row.kind,
  jwksUri: row.jwksUri,
  algorithms: row.algorithms,
  maxTokenAgeSeconds: row.maxTokenAgeS,
  createdAt: row.createdAt,
});

export class TrustedPublisherAdmin {
  constructor(
    private readonly db: Database,
    private readonly publishers: PublisherService,
    private readonly clock: Clock,
    private readonly changes: StateChanges,
    private readonly options: TrustedPublisherAdminOptions,
  ) {}

  async addIssuer(input: IssuerInput, actor: string): Promise<OidcIssuer> {
    if (!isIssuerKind(input.kind)) throw new ModelsignError('invalid_oidc_issuer', 'kind must be github, gitlab or generic');
    let maxAge = DEFAULT_MAX_AGE_S[input.kind];
    if (input.maxTokenAge !== undefined) {
      maxAge = Math.round(parseDuration(input.maxTokenAge) / 1000);
      if (maxAge < 60 || maxAge > 86_400) throw new ModelsignError('invalid_oidc_issuer', 'maxTokenAge must be between 1m and 24h');
    }
    if (input.algorithms?.some((a) => !(ALLOWED_ID_TOKEN_ALGS as readonly string[]).includes(a))) {
      throw new ModelsignError('invalid_oidc_issuer', `algorithms must be among ${ALLOWED_ID_TOKEN_ALGS.join(', ')} (never none or HMAC)`);
    }
    if (await findLiveIssuer(this.db.prisma, input.url, false)) throw new ModelsignError('oidc_issuer_exists', `issuer ${input.url} is already configured`);
    const discovered = await discoverIssuer(input.url, this.options.allowInsecure, this.options.fetch);
    const offered = discovered.algorithms?.filter((a) => (ALLOWED_ID_TOKEN_ALGS as readonly string[]).includes(a)) ?? [];
    const algorithms = input.algorithms ?? (input.kind === 'generic' && offered.length > 0 ? offered : ['RS256']);
    const row: IssuerRow = { id: randomUUID(), url: input.url, kind: input.kind, jwksUri: discovered.jwksUri, algorithms, maxTokenAgeS: maxAge, createdAt: this.clock.now() };
    try {
      await this.db.prismaTransaction(async (tx) => {
        await insertIssuer(tx, row);
        await recordAudit(tx, { actor, action: 'oidc_issuer.add', target: `oidc_issuer:${row.id}`, details: { url: row.url, kind: row.kind, jwksUri: row.jwksUri, algorithms, maxTokenAgeSeconds: maxAge }, at: row.createdAt });
        await bumpStateEpoch(tx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ModelsignError('oidc_issuer_exists', `issuer ${input.url} is already configured`);
      throw err;
    }
    await this.changes.publish({ what: 'trusted-publishing' });
    return issuerOf(row);
  }

  async listIssuers(): Promise<OidcIssuer[]> {
    return (await liveIssuers(this.db.prisma)).map(issuerOf);
  }

  async removeIssuer(idOrUrl: string, actor: string): Promise<void> {
    const now = this.clock.now();
    await this.db.prismaTransaction(async (tx) => {
      const row = await findLiveIssuer(tx, idOrUrl, isUuid(idOrUrl));
      if (!row) throw new ModelsignError('not_found', `no issuer ${JSON.stringify(idOrUrl)}`);
      const rules = await countLiveRules(tx, { issuerId: row.id });
      if (rules > 0) throw new ModelsignError('oidc_issuer_in_use', `${rules} trusted-publisher rule(s) use ${row.url}; delete them first`);
      await markIssuerDeleted(tx, row.id, now);
      await recordAudit(tx, { actor, action: 'oidc_issuer.remove', target: `oidc_issuer:${row.id}`, details: { url: row.url }, at: now });
      await bumpStateEpoch(tx);
    });
    await this.changes.publish({ what: 'trusted-publishing' });
  }

  // ---- rules ----

  async addRule(publisherIdOrName: string, input: RuleInput, actor: string): Promise<TrustedPublisherRecord> {
    const publisher = await this.publishers.find(publisherIdOrName);
    if (!publisher) throw new ModelsignError('publisher_unknown', `no publisher ${JSON.stringify(publisherIdOrName)}`);
    const issuer = await findLiveIssuer(this.db.prisma, input.issuer, isUuid(input.issuer));
    if (!issuer) throw new ModelsignError('invalid_trusted_publisher', `no configured OIDC issuer ${JSON.stringify(input.issuer)}; add it first (POST /v1/admin/oidc-issuers)`);
    const kind = issuer.kind;
    const given = ISSUER_KINDS.filter((k) => input[k] !== undefined);
    if (given.length !== 1 || given[0] !== kind) throw new ModelsignError('invalid_trusted_publisher', `${issuer.url} is a ${kind} issuer: give its conditions as \`${kind}\` (and nothing else)`);
    const rule = parseRule(kind, input[kind]);
    const namespaces = [...new Set(input.namespaces)];
    const foreign = namespaces.filter((n) => !publisher.namespaces.includes(n));
    if (namespaces.length === 0 || foreign.length > 0) {
      throw new ModelsignError('invalid_trusted_publisher', namespaces.length === 0 ? 'a rule needs at least one namespace' : `publisher ${publisher.name} does not own ${foreign.map((n) => JSON.stringify(n)).join(', ')}`);
    }
    const row: RuleRow = { id: randomUUID(), publisherId: publisher.id, issuerId: issuer.id, namespaces, conditions: rule, publicRepository: input.publicRepository ?? false, createdAt: this.clock.now() };
    await this.db.prismaTransaction(async (tx) => {
      await insertRule(tx, row);
      await recordAudit(tx, { actor, action: 'trusted_publisher.add', target: `trusted_publisher:${row.id}`, details: { publisher: publisher.name, issuer: issuer.url, namespaces, publicRepository: row.publicRepository, rule }, at: row.createdAt });
      await bumpStateEpoch(tx);
    });
    return { id: row.id, publisherId: publisher.id, issuer: issuer.url, kind, namespaces, publicRepository: row.publicRepository, rule, createdAt: row.createdAt };
  }

  async listRules(publisherIdOrName: string): Promise<TrustedPublisherRecord[]> {
    const publisher = await this.publishers.find(publisherIdOrName);
    if (!publisher) throw new ModelsignError('publisher_unknown', `no publisher ${JSON.stringify(publisherIdOrName)}`);
    const issuers = new Map((await liveIssuers(this.db.prisma)).map((i) => [i.id, i]));
    return (await liveRulesOfPublisher(this.db.prisma, publisher.id)).map((r) => {
      const kind = issuers.get(r.issuerId)?.kind ?? 'generic';
      return { id: r.id, publisherId: r.publisherId, issuer: issuers.get(r.issuerId)?.url ?? r.issuerId, kind, namespaces: r.namespaces, publicRepository: r.publicRepository, rule: r.conditions as TrustedPublisherRule, createdAt: r.createdAt };
    });
  }

  /** Deletes a rule: tokens minted under it are refused from now on (other instances: within a state poll). */
  async removeRule(publisherIdOrName: string, ruleId: string, actor: string): Promise<void> {
    const publisher = await this.publishers.find(publisherIdOrName);
    if (!publisher) throw new ModelsignError('publisher_unknown', `no publisher ${JSON.stringify(publisherIdOrName)}`);
    const now = this.clock.now();
    await this.db.prismaTransaction(async (tx) => {
      const rule = isUuid(ruleId) ? await findLiveRule(tx, ruleId) : undefined;
      if (!rule || rule.publisherId !== publisher.id) throw new ModelsignError('not_found', `publisher ${publisher.name} has no rule ${JSON.stringify(ruleId)}`);
      await markRuleDeleted(tx, rule.id, now);
      await recordAudit(tx, { actor, action: 'trusted_publisher.remove', target: `trusted_publisher:${rule.id}`, details: { publisher: publisher.name }, at: now });
      await bumpStateEpoch(tx);
    });
    await this.changes.publish({ what: 'trusted-publishing' });
  }
}
