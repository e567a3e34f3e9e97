// Trusted publishing's token exchange: a CI job's OIDC ID token, exchanged for a publisher token
// of at most 15 minutes under rules an admin set (trusted-publisher-admin.ts), so no long-lived
// secret lives in CI. Named steps, each throwing its coded error: read the token unverified, pick
// its issuer, verify it against the issuer's keys, admit it under the per-repository limit, choose
// the rule (core/oidc/match.ts), and mint: in one transaction consume the token's jti, pin ids a
// rule left empty, record the exchange and the audit event, and issue the token. See
// docs/design/trusted-publishing.md.
import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { ModelsignError } from '../core/errors.ts';
import { ciIdentityOf, type CiIdentity } from '../core/oidc/identity.ts';
import { matchRule, pinnedRule, type MatchResult } from '../core/oidc/match.ts';
import type { TrustedPublisherRule } from '../core/oidc/rules.ts';
import { recordAudit } from '../db/audit-store.ts';
import type { Database } from '../db/client.ts';
import { insertExchange, liveIssuers, liveRulesOfIssuer, pinRule, type IssuerRow, type LiveRuleRow } from '../db/oidc-store.ts';
import type { Clock } from './support/clock.ts';
import { FixedWindows } from './support/fixed-window.ts';
import { IssuerKeys, type Fetch } from './oidc-keys.ts';
import type { TokenService } from './tokens.ts';

/** Lifetime of a minted publisher token. */
export const EXCHANGED_TOKEN_TTL_MS = 15 * 60_000;
/** Clock skew allowed on exp, nbf and iat (PyPI's 30 s). */
const LEEWAY_S = 30;
/** Asymmetric JWS algorithms an issuer may be allowed; `none` and HMAC never are. */
export const ALLOWED_ID_TOKEN_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

export interface OidcExchangeOptions {
  /** The `aud` every ID token must carry: MODELSIGN_OIDC_AUDIENCE, default the public URL. */
  audience: string;
  /** At most one JWKS fetch per issuer for an unknown kid in this long. */
  jwksCooldownMs: number;
  /** Verified exchange attempts per (issuer, repository or project id) an hour; 0 = no limit. */
  perRepositoryPerHour: number;
  fetch?: Fetch | undefined;
  warn?: (fields: Record<string, unknown>, message: string) => void;
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
  row: IssuerRow;
  keys: IssuerKeys;
}


type Matched = { r: LiveRuleRow; rule: TrustedPublisherRule; result: MatchResult & { matched: true } };

export class OidcExchange {
  // The live issuers by exact URL; undefined until read, and after any change (here or, through
  // the state epoch, on another instance). Keys are kept by JWKS URL across re-reads.
  private issuers: Promise<Map<string, LiveIssuer>> | undefined;
  private readonly keys = new Map<string, IssuerKeys>();
  private readonly repositoryWindows: FixedWindows;

  constructor(
    private readonly db: Database,
    private readonly tokens: TokenService,
    private readonly clock: Clock,
    private readonly options: OidcExchangeOptions,
  ) {
    this.repositoryWindows = new FixedWindows(60 * 60_000, 100_000, clock);
  }

  get audience(): string {
    return this.options.audience;
  }

  /** Forget the issuers read (an issuer was added or removed, here or elsewhere). */
  invalidate(): void {
    this.issuers = undefined;
  }

  close(): void {
    this.repositoryWindows.close();
  }

  async exchange(idToken: string, publisherName?: string): Promise<ExchangeResult> {
    const { header, claims } = readUnverified(idToken);
    const issuer = await this.issuerFor(header, claims);
    const payload = await this.verifyIdToken(idToken, issuer, header.kid as string);
    // Verified from here on: the claims are the issuer's.
    const { row } = issuer;
    this.admit(row, payload);
    const identity = ciIdentityOf(row.url, row.kind, payload);
    const chosen = await this.chooseRule(row, payload, identity, publisherName);
    return this.mint(row, payload, identity, chosen);
  }

  /** The configured issuer the token names, with its header fit for that issuer; nothing is fetched for another. */
  private async issuerFor(header: Record<string, unknown>, claims: Record<string, unknown>): Promise<LiveIssuer> {
    // Picked by exact string: nothing is fetched for an issuer no admin configured.
    const issuer = (await this.liveIssuers()).get(claims.iss as string);
    if (!issuer) throw new ModelsignError('oidc_issuer_unknown', 'the ID token\'s issuer is not configured for trusted publishing');
    const { row } = issuer;
    if (typeof header.alg !== 'string' || !row.algorithms.includes(header.alg)) {
      throw new ModelsignError('oidc_token_invalid', `the ID token's alg ${JSON.stringify(header.alg)} is not allowed for this issuer (allowed: ${row.algorithms.join(', ')})`);
    }
    if (typeof header.kid !== 'string' || header.kid === '') throw new ModelsignError('oidc_token_invalid', 'the ID token\'s header has no kid');
    if (typeof claims.aud !== 'string') throw new ModelsignError('oidc_token_invalid', `aud must be one string, this service's audience (${this.options.audience}), not a list`);
    return issuer;
  }

  /** Counts a verified token against its repository's (or project's, or subject's) hourly limit. */
  private admit(row: LiveIssuer['row'], payload: JWTPayload): void {
    const max = this.options.perRepositoryPerHour;
    if (max === 0) return;
    const repositoryKey = row.kind === 'github' ? payload.repository_id : row.kind === 'gitlab' ? payload.project_id : payload.sub;
    const { count, retryAfterSeconds } = this.repositoryWindows.hit(`${row.url} ${String(repositoryKey)}`);
    if (count > max) {
      throw new ModelsignError('rate_limited', `more than ${max} exchanges an hour for this repository; retry in ${retryAfterSeconds} s`, [{ message: 'retry after', retryAfterSeconds }]);
    }
  }

  /** The one rule that admits the token: of one publisher, the most specific (names an environment), then the oldest. */
  private async chooseRule(row: LiveIssuer['row'], payload: JWTPayload, identity: CiIdentity, publisherName: string | undefined): Promise<Matched> {
    const rules = await liveRulesOfIssuer(this.db.prisma, row.id);
    const results = rules.map((r) => ({ r, rule: r.conditions as TrustedPublisherRule, result: matchRule(r.conditions as TrustedPublisherRule, payload) }));
    const matched = results.filter((x): x is Matched => x.result.matched && (publisherName === undefined || x.r.publisherName === publisherName));
    if (matched.length === 0) {
      for (const { r, result } of results) {
        // A rule of the token's own repository that refused it: worth naming, and an audit line.
        if (result.matched || !result.anchored) continue;
        await this.recordRefusal(identity, payload, r.id, result.condition);
        throw new ModelsignError('invalid_publisher', `no trusted-publisher rule allows this token: ${result.condition} does not match the rule for ${identity.repository ?? 'this repository'}`);
      }
      if (publisherName !== undefined && results.some((x) => x.result.matched)) throw new ModelsignError('invalid_publisher', `no rule of publisher ${JSON.stringify(publisherName)} allows this token`);
      throw new ModelsignError('invalid_publisher', 'no trusted-publisher rule allows this token');
    }
    if (new Set(matched.map((x) => x.r.publisherId)).size > 1) {
      throw new ModelsignError('invalid_publisher', `rules of several publishers (${[...new Set(matched.map((x) => x.r.publisherName))].join(', ')}) allow this token; name one with "publisher"`);
    }
    const specific = (rule: TrustedPublisherRule) => (rule.kind !== 'generic' && rule.environment !== null ? 0 : 1);
    const chosen = [...matched].sort((a, b) => specific(a.rule) - specific(b.rule))[0]!;
    if (chosen.r.publisherDisabled) throw new ModelsignError('publisher_disabled', `publisher ${chosen.r.publisherName} is disabled`);
    return chosen;
  }

  /** In one transaction: the jti consumed (once only), ids pinned, the exchange and its audit event recorded, the token issued. */
  private async mint(row: LiveIssuer['row'], payload: JWTPayload, identity: CiIdentity, chosen: Matched): Promise<ExchangeResult> {
    const pins = chosen.result.pins;
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

  /** The token's claims, verified against its issuer's keys, audience, algorithms and times (on the injected clock). */
  private async verifyIdToken(idToken: string, issuer: LiveIssuer, kid: string): Promise<JWTPayload> {
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

  /** A verified token refused by a rule of its own repository: worth an audit line (others are only counted). */
  private async recordRefusal(identity: CiIdentity, payload: JWTPayload, ruleId: string, condition: string): Promise<void> {
    try {
      await this.db.prismaTransaction((tx) =>
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
            return [row.url, { row, keys }];
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
