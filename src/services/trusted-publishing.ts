// Trusted publishing: a CI job's OIDC ID token, exchanged for a publisher token of at most 15
// minutes under rules an admin set, so no long-lived secret lives in CI. Admins configure the
// issuers (discovery fetched once, here) and the rules per publisher; the exchange verifies the
// token against its issuer's keys, matches the rules (core/oidc/match.ts), and in one transaction
// consumes the token's jti, pins ids a rule left empty, records the exchange and the audit event,
// and mints the token. See docs/design/trusted-publishing.md.
import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { parseDuration } from '../core/duration.ts';
import { ModelsignError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { ciIdentityOf, type CiIdentity } from '../core/oidc/identity.ts';
import { matchRule, pinnedRule } from '../core/oidc/match.ts';
import { isIssuerKind, parseRule, type IssuerKind, type TrustedPublisherRule } from '../core/oidc/rules.ts';
import { recordAudit } from '../db/audit-store.ts';
import type { Database } from '../db/client.ts';
import { isUniqueViolation } from '../db/errors.ts';
import {
  countLiveRules,
  findLiveIssuer,
  findLiveRule,
  insertExchange,
  insertIssuer,
  insertRule,
  liveIssuers,
  liveRulesOfIssuer,
  liveRulesOfPublisher,
  markIssuerDeleted,
  markRuleDeleted,
  pinRule,
  type IssuerRow,
  type RuleRow,
} from '../db/oidc-store.ts';
import { bumpStateEpoch } from '../db/state-epoch.ts';
import type { Clock } from './clock.ts';
import { FixedWindows } from './fixed-window.ts';
import { discoverIssuer, IssuerKeys, type Fetch } from './oidc-keys.ts';
import type { PublisherService } from './publishers.ts';
import type { TokenService } from './tokens.ts';

/** Lifetime of a minted publisher token. */
export const EXCHANGED_TOKEN_TTL_MS = 15 * 60_000;
/** Clock skew allowed on exp, nbf and iat (PyPI's 30 s). */
const LEEWAY_S = 30;
/** Asymmetric JWS algorithms an issuer may be allowed; `none` and HMAC never are. */
export const ALLOWED_ID_TOKEN_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
const DEFAULT_MAX_AGE_S: Record<IssuerKind, number> = { github: 15 * 60, gitlab: 60 * 60, generic: 60 * 60 };

export interface TrustedPublishingOptions {
  /** The `aud` every ID token must carry: MODELSIGN_OIDC_AUDIENCE, default the public URL. */
  audience: string;
  /** MODELSIGN_OIDC_ALLOW_INSECURE: http issuers (tests only). */
  allowInsecure: boolean;
  /** At most one JWKS fetch per issuer for an unknown kid in this long. */
  jwksCooldownMs: number;
  /** Verified exchange attempts per (issuer, repository or project id) an hour; 0 = no limit. */
  perRepositoryPerHour: number;
  fetch?: Fetch;
  warn?: (fields: Record<string, unknown>, message: string) => void;
}

export interface IssuerInput {
  url: string;
  kind: IssuerKind;
  /** A duration (`15m`): ID tokens older than this (by iat) are refused. Defaults: github 15m, gitlab 60m, generic 60m. */
  maxTokenAge?: string | undefined;
  /** JWS algorithms accepted; default RS256 (github, gitlab), or what discovery lists among the allowed ones. */
  algorithms?: string[] | undefined;
}

export interface IssuerView {
  id: string;
  url: string;
  kind: IssuerKind;
  jwksUri: string;
  algorithms: string[];
  maxTokenAgeSeconds: number;
  createdAt: Date;
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

export interface RuleView {
  id: string;
  publisherId: string;
  issuer: string;
  kind: IssuerKind;
  namespaces: string[];
  publicRepository: boolean;
  rule: TrustedPublisherRule;
  createdAt: Date;
}

export interface ExchangeResult {
  token: string;
  jti: string;
  expiresAt: Date;
  publisher: string;
  namespaces: string[];
  ruleId: string;
}

interface LiveIssuer {
  row: IssuerRow & { kind: IssuerKind };
  keys: IssuerKeys;
}

const issuerView = (row: IssuerRow): IssuerView => ({
  id: row.id,
  url: row.url,
  kind: row.kind as IssuerKind,
  jwksUri: row.jwksUri,
  algorithms: row.algorithms,
  maxTokenAgeSeconds: row.maxTokenAgeS,
  createdAt: row.createdAt,
});

export class TrustedPublishingService {
  // The live issuers by exact URL; undefined until read, and after any change (here or, through
  // the state epoch, on another instance). Keys are kept by JWKS URL across re-reads.
  private issuers: Promise<Map<string, LiveIssuer>> | undefined;
  private readonly keys = new Map<string, IssuerKeys>();
  private readonly repositoryWindows: FixedWindows;

  constructor(
    private readonly db: Database,
    private readonly tokens: TokenService,
    private readonly publishers: PublisherService,
    private readonly clock: Clock,
    private readonly options: TrustedPublishingOptions,
  ) {
    this.repositoryWindows = new FixedWindows(60 * 60_000, 100_000, clock);
  }

  get audience(): string {
    return this.options.audience;
  }

  /** Forget the issuers read (the state epoch moved). */
  invalidate(): void {
    this.issuers = undefined;
  }

  close(): void {
    this.repositoryWindows.close();
  }

  // ---- issuers ----

  async addIssuer(input: IssuerInput, actor: string): Promise<IssuerView> {
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
      await this.db.inTransaction(async (tx) => {
        await insertIssuer(tx, row);
        await recordAudit(tx, { actor, action: 'oidc_issuer.add', target: `oidc_issuer:${row.id}`, details: { url: row.url, kind: row.kind, jwksUri: row.jwksUri, algorithms, maxTokenAgeSeconds: maxAge }, at: row.createdAt });
        await bumpStateEpoch(tx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ModelsignError('oidc_issuer_exists', `issuer ${input.url} is already configured`);
      throw err;
    }
    this.invalidate();
    return issuerView(row);
  }

  async listIssuers(): Promise<IssuerView[]> {
    return (await liveIssuers(this.db.prisma)).map(issuerView);
  }

  async removeIssuer(idOrUrl: string, actor: string): Promise<void> {
    const now = this.clock.now();
    await this.db.inTransaction(async (tx) => {
      const row = await findLiveIssuer(tx, idOrUrl, isUuid(idOrUrl));
      if (!row) throw new ModelsignError('not_found', `no issuer ${JSON.stringify(idOrUrl)}`);
      const rules = await countLiveRules(tx, { issuerId: row.id });
      if (rules > 0) throw new ModelsignError('oidc_issuer_in_use', `${rules} trusted-publisher rule(s) use ${row.url}; delete them first`);
      await markIssuerDeleted(tx, row.id, now);
      await recordAudit(tx, { actor, action: 'oidc_issuer.remove', target: `oidc_issuer:${row.id}`, details: { url: row.url }, at: now });
      await bumpStateEpoch(tx);
    });
    this.invalidate();
  }

  // ---- rules ----

  async addRule(publisherIdOrName: string, input: RuleInput, actor: string): Promise<RuleView> {
    const publisher = await this.publishers.find(publisherIdOrName);
    if (!publisher) throw new ModelsignError('publisher_unknown', `no publisher ${JSON.stringify(publisherIdOrName)}`);
    const issuer = await findLiveIssuer(this.db.prisma, input.issuer, isUuid(input.issuer));
    if (!issuer) throw new ModelsignError('invalid_trusted_publisher', `no configured OIDC issuer ${JSON.stringify(input.issuer)}; add it first (POST /v1/admin/oidc-issuers)`);
    const kind = issuer.kind as IssuerKind;
    const given = (['github', 'gitlab', 'generic'] as const).filter((k) => input[k] !== undefined);
    if (given.length !== 1 || given[0] !== kind) throw new ModelsignError('invalid_trusted_publisher', `${issuer.url} is a ${kind} issuer: give its conditions as \`${kind}\` (and nothing else)`);
    const rule = parseRule(kind, input[kind]);
    const namespaces = [...new Set(input.namespaces)];
    const foreign = namespaces.filter((n) => !publisher.namespaces.includes(n));
    if (namespaces.length === 0 || foreign.length > 0) {
      throw new ModelsignError('invalid_trusted_publisher', namespaces.length === 0 ? 'a rule needs at least one namespace' : `publisher ${publisher.name} does not own ${foreign.map((n) => JSON.stringify(n)).join(', ')}`);
    }
    const row: RuleRow = { id: randomUUID(), publisherId: publisher.id, issuerId: issuer.id, namespaces, conditions: rule, publicRepository: input.publicRepository ?? false, createdAt: this.clock.now() };
    await this.db.inTransaction(async (tx) => {
      await insertRule(tx, row);
      await recordAudit(tx, { actor, action: 'trusted_publisher.add', target: `trusted_publisher:${row.id}`, details: { publisher: publisher.name, issuer: issuer.url, namespaces, publicRepository: row.publicRepository, rule }, at: row.createdAt });
      await bumpStateEpoch(tx);
    });
    return { id: row.id, publisherId: publisher.id, issuer: issuer.url, kind, namespaces, publicRepository: row.publicRepository, rule, createdAt: row.createdAt };
  }

  async listRules(publisherIdOrName: string): Promise<RuleView[]> {
    const publisher = await this.publishers.find(publisherIdOrName);
    if (!publisher) throw new ModelsignError('publisher_unknown', `no publisher ${JSON.stringify(publisherIdOrName)}`);
    const issuers = new Map((await liveIssuers(this.db.prisma)).map((i) => [i.id, i]));
    return (await liveRulesOfPublisher(this.db.prisma, publisher.id)).map((r) => {
      const kind = (issuers.get(r.issuerId)?.kind ?? 'generic') as IssuerKind;
      return { id: r.id, publisherId: r.publisherId, issuer: issuers.get(r.issuerId)?.url ?? r.issuerId, kind, namespaces: r.namespaces, publicRepository: r.publicRepository, rule: r.conditions as TrustedPublisherRule, createdAt: r.createdAt };
    });
  }

  /** Deletes a rule: tokens minted under it are refused from now on (other instances: within a state poll). */
  async removeRule(publisherIdOrName: string, ruleId: string, actor: string): Promise<void> {
    const publisher = await this.publishers.find(publisherIdOrName);
    if (!publisher) throw new ModelsignError('publisher_unknown', `no publisher ${JSON.stringify(publisherIdOrName)}`);
    const now = this.clock.now();
    await this.db.inTransaction(async (tx) => {
      const rule = isUuid(ruleId) ? await findLiveRule(tx, ruleId) : undefined;
      if (!rule || rule.publisherId !== publisher.id) throw new ModelsignError('not_found', `publisher ${publisher.name} has no rule ${JSON.stringify(ruleId)}`);
      await markRuleDeleted(tx, rule.id, now);
      await recordAudit(tx, { actor, action: 'trusted_publisher.remove', target: `trusted_publisher:${rule.id}`, details: { publisher: publisher.name }, at: now });
      await bumpStateEpoch(tx);
    });
    this.tokens.invalidate();
  }

  // ---- the exchange ----

  async exchange(idToken: string, publisherName?: string): Promise<ExchangeResult> {
    const { header, claims } = readUnverified(idToken);
    const issuer = (await this.liveIssuers()).get(claims.iss as string);
    // Picked by exact string: nothing is fetched for an issuer no admin configured.
    if (!issuer) throw new ModelsignError('oidc_issuer_unknown', 'the ID token\'s issuer is not configured for trusted publishing');
    const { row } = issuer;
    if (typeof header.alg !== 'string' || !row.algorithms.includes(header.alg)) {
      throw new ModelsignError('oidc_token_invalid', `the ID token's alg ${JSON.stringify(header.alg)} is not allowed for this issuer (allowed: ${row.algorithms.join(', ')})`);
    }
    if (typeof header.kid !== 'string' || header.kid === '') throw new ModelsignError('oidc_token_invalid', 'the ID token\'s header has no kid');
    if (typeof claims.aud !== 'string') throw new ModelsignError('oidc_token_invalid', `aud must be one string, this service's audience (${this.options.audience}), not a list`);
    const payload = await this.verify(idToken, issuer, header.kid);

    // Verified from here on: the claims are the issuer's.
    const repositoryKey = row.kind === 'github' ? payload.repository_id : row.kind === 'gitlab' ? payload.project_id : payload.sub;
    this.admitRepository(`${row.url} ${String(repositoryKey)}`);
    const rules = await liveRulesOfIssuer(this.db.prisma, row.id);
    const results = rules.map((r) => ({ r, rule: r.conditions as TrustedPublisherRule, result: matchRule(r.conditions as TrustedPublisherRule, payload) }));
    const identity = ciIdentityOf(row.url, row.kind, payload);
    const matched = results.filter((x) => x.result.matched && (publisherName === undefined || x.r.publisherName === publisherName));
    if (matched.length === 0) {
      const anchored = results.find((x) => !x.result.matched && x.result.anchored);
      if (anchored && !anchored.result.matched) {
        await this.recordRefusal(identity, payload, anchored.r.id, anchored.result.condition);
        throw new ModelsignError('invalid_publisher', `no trusted-publisher rule allows this token: ${anchored.result.condition} does not match the rule for ${identity.repository ?? 'this repository'}`);
      }
      if (publisherName !== undefined && results.some((x) => x.result.matched)) throw new ModelsignError('invalid_publisher', `no rule of publisher ${JSON.stringify(publisherName)} allows this token`);
      throw new ModelsignError('invalid_publisher', 'no trusted-publisher rule allows this token');
    }
    if (new Set(matched.map((x) => x.r.publisherId)).size > 1) {
      throw new ModelsignError('invalid_publisher', `rules of several publishers (${[...new Set(matched.map((x) => x.r.publisherName))].join(', ')}) allow this token; name one with "publisher"`);
    }
    // The most specific rule: one that names an environment, then the oldest.
    const specific = (rule: TrustedPublisherRule) => (rule.kind !== 'generic' && rule.environment !== null ? 0 : 1);
    const chosen = [...matched].sort((a, b) => specific(a.rule) - specific(b.rule))[0]!;
    if (chosen.r.publisherDisabled) throw new ModelsignError('publisher_disabled', `publisher ${chosen.r.publisherName} is disabled`);
    const pins = chosen.result.matched ? chosen.result.pins : {};
    const exchangeId = randomUUID();
    const jti = payload.jti as string;
    const at = this.clock.now();
    try {
      const issued = await this.tokens.issue(
        { role: 'publisher', subject: chosen.r.publisherName, publisherId: chosen.r.publisherId, namespaces: chosen.r.namespaces, ttlMs: EXCHANGED_TOKEN_TTL_MS, source: { kind: 'oidc', exchangeId } },
        actorOf(identity),
        async (tx, tokenJti) => {
          const fresh = await insertExchange(tx, {
            id: exchangeId,
            issuer: row.url,
            jti,
            ruleId: chosen.r.id,
            publisherId: chosen.r.publisherId,
            identity,
            tokenIssuedAt: new Date((payload.iat as number) * 1000),
            tokenExpiresAt: new Date((payload.exp as number) * 1000),
          });
          if (!fresh) throw new ModelsignError('oidc_token_reused', 'this ID token has been exchanged already; request a new one');
          if (Object.keys(pins).length > 0) {
            if (!(await pinRule(tx, chosen.r.id, chosen.rule, pinnedRule(chosen.rule, pins)))) {
              throw new ModelsignError('invalid_publisher', 'the rule changed while this token was being exchanged; try again');
            }
            await recordAudit(tx, { actor: actorOf(identity), action: 'trusted_publisher.pin', target: `trusted_publisher:${chosen.r.id}`, details: { ...pins }, at });
          }
          await recordAudit(tx, {
            actor: actorOf(identity),
            action: 'oidc.exchange',
            target: `trusted_publisher:${chosen.r.id}`,
            details: { exchange: exchangeId, publisher: chosen.r.publisherName, token: tokenJti, jti, namespaces: chosen.r.namespaces, identity: { ...identity } },
            at,
          });
        },
      );
      return { token: issued.token, jti: issued.jti, expiresAt: issued.expiresAt, publisher: chosen.r.publisherName, namespaces: chosen.r.namespaces, ruleId: chosen.r.id };
    } catch (err) {
      if (err instanceof ModelsignError && err.code === 'oidc_token_reused') await this.recordRefusal(identity, payload, chosen.r.id, 'jti (already exchanged)');
      throw err;
    }
  }

  private async verify(idToken: string, issuer: LiveIssuer, kid: string): Promise<JWTPayload> {
    const { row } = issuer;
    const getKey = await issuer.keys.forKid(kid);
    const now = this.clock.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, getKey, {
        issuer: row.url,
        audience: this.options.audience,
        algorithms: row.algorithms,
        clockTolerance: LEEWAY_S,
        // With a maximum age jose also refuses an iat more than the tolerance in the future.
        maxTokenAge: row.maxTokenAgeS,
        currentDate: now,
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
      }));
    } catch (err) {
      throw refusalOf(err);
    }
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) throw new ModelsignError('oidc_token_invalid', 'the ID token has no usable jti');
    return payload;
  }

  private admitRepository(key: string): void {
    const max = this.options.perRepositoryPerHour;
    if (max === 0) return;
    const { count, retryAfterSeconds } = this.repositoryWindows.hit(key);
    if (count > max) {
      throw new ModelsignError('rate_limited', `more than ${max} exchanges an hour for this repository; retry in ${retryAfterSeconds} s`, [{ message: 'retry after', retryAfterSeconds }]);
    }
  }

  /** A verified token refused by a rule of its own repository: worth an audit line (others are only counted). */
  private async recordRefusal(identity: CiIdentity, payload: JWTPayload, ruleId: string, condition: string): Promise<void> {
    try {
      await this.db.inTransaction((tx) =>
        recordAudit(tx, {
          actor: actorOf(identity),
          action: 'oidc.refuse',
          target: `trusted_publisher:${ruleId}`,
          details: { condition, jti: payload.jti, identity: { ...identity } },
          at: this.clock.now(),
        }),
      );
    } catch (err) {
      this.options.warn?.({ err }, 'could not record a refused ID-token exchange in the audit trail');
    }
  }

  private liveIssuers(): Promise<Map<string, LiveIssuer>> {
    this.issuers ??= liveIssuers(this.db.prisma).then(
      (rows) =>
        new Map(
          rows.map((row) => {
            let keys = this.keys.get(row.jwksUri);
            if (!keys) {
              keys = new IssuerKeys(row.jwksUri, {
                cooldownMs: this.options.jwksCooldownMs,
                now: () => this.clock.now().getTime(),
                ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
                onFetchFailure: (jwksUri, err) => this.options.warn?.({ jwksUri, err: { message: (err as Error).message } }, 'could not fetch an OIDC issuer\'s keys; the last good keys stay in use'),
              });
              this.keys.set(row.jwksUri, keys);
            }
            return [row.url, { row: row as LiveIssuer['row'], keys }];
          }),
        ),
      (err: unknown) => {
        this.issuers = undefined;
        throw err;
      },
    );
    return this.issuers;
  }
}

function actorOf(identity: CiIdentity): string {
  return `oidc:${identity.repository ?? identity.subject ?? identity.issuer}`;
}

/** The header and claims of a compact JWS, not verified: only to pick the issuer. */
function readUnverified(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw new ModelsignError('oidc_token_malformed', 'the ID token must be a compact JWS: three base64url parts separated by dots');
  try {
    const header = decodeProtectedHeader(token) as Record<string, unknown>;
    const claims = decodeJwt(token) as Record<string, unknown>;
    if (typeof claims.iss !== 'string') throw new Error('no iss');
    return { header, claims };
  } catch {
    throw new ModelsignError('oidc_token_malformed', 'the ID token\'s header and claims must be JSON objects, with an iss claim');
  }
}

function refusalOf(err: unknown): ModelsignError {
  if (err instanceof ModelsignError) return err;
  if (err instanceof joseErrors.JWTExpired) return new ModelsignError('oidc_token_expired', 'the ID token has expired; request a fresh one');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    // A claim missing or of the wrong type makes the token invalid, not expired: no fresh token of the same shape would do.
    if (err.reason === 'missing') return new ModelsignError('oidc_token_invalid', `the ID token has no ${err.claim} claim (ID tokens must carry iss, aud, exp, iat and jti)`);
    if (err.reason === 'invalid') return new ModelsignError('oidc_token_invalid', `the ID token has a ${err.claim} claim that is not a number`);
    if (err.claim === 'iat' || err.claim === 'nbf') return new ModelsignError('oidc_token_expired', `the ID token is not valid now (${err.claim}: ${err.message}); request a fresh one`);
    if (err.claim === 'aud') return new ModelsignError('oidc_token_invalid', 'the ID token\'s aud is not this service\'s audience (GET /v1/oidc/audience)');
    return new ModelsignError('oidc_token_invalid', `the ID token's ${err.claim} claim does not check out: ${err.message}`);
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new ModelsignError('oidc_token_invalid', 'the ID token\'s algorithm is not allowed');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new ModelsignError('oidc_token_invalid', 'the ID token\'s signature does not verify');
  if (err instanceof joseErrors.JOSEError) return new ModelsignError('oidc_token_invalid', `the ID token does not verify (${err.code})`);
  return new ModelsignError('oidc_token_invalid', 'the ID token does not verify');
}
