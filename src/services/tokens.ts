// Bearer tokens: JWTs signed by the `token` key (core/jws.ts), recorded by jti (never the JWT
// itself), and checked on every request against the current state of the token, its publisher and
// (for a token trusted publishing minted) the rule it was minted under.
import { randomUUID } from 'node:crypto';
import { ModelsignError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import type { CiIdentity, SignerIdentity } from '../core/oidc/identity.ts';
import { signJwt } from '../core/jws.ts';
import { TOKEN_ISSUER, tokenStatus, type IssuedToken, type ListedToken, type Role } from '../core/tokens.ts';
import { recordAudit } from '../db/audit-store.ts';
import type { Database, Tx } from '../db/client.ts';
import { bumpStateEpoch } from '../db/state-epoch.ts';
import { findTokenRevocation, findTokenState, insertToken, listTokenRows, markTokenRevoked, type TokenState } from '../db/token-store.ts';
import type { Clock } from './support/clock.ts';
import type { KeyService } from './keys.ts';
import type { Principal } from './principal.ts';
import type { PublisherService } from './publishers.ts';
import type { StateChanges } from './state-changes.ts';

/** What an admin asks for (the CLI and POST /v1/admin/tokens). */
export interface IssueTokenInput {
  role: Role;
  /** Publisher id or name; required for, and only for, publisher tokens. */
  publisher?: string | undefined;
  /** Who the token is for; required for admin and auditor tokens. */
  subject?: string | undefined;
  ttlMs: number;
}

/**
 * What a token is issued for, whoever asked: an admin (grantFor) or trusted publishing (an OIDC
 * exchange). The grant is complete: issue() decides nothing about who may have it.
 */
export interface TokenGrant {
  role: Role;
  subject: string;
  publisherId: string | null;
  /** Narrows a publisher token to these of its namespaces; empty or absent: all of them. */
  namespaces?: string[];
  ttlMs: number;
  source: { kind: 'admin' } | { kind: 'oidc'; exchangeId: string };
}

/** The claims @fastify/jwt has verified (signature, issuer, required claims; not expiry, which authenticate checks). */
export interface TokenClaims {
  jti?: unknown;
  sub?: unknown;
  role?: unknown;
  ns?: unknown;
  exp?: unknown;
  nbf?: unknown;
}

function identityOf(jti: string, token: TokenState): SignerIdentity {
  const exchange = token.exchange;
  if (!exchange) return { method: 'token', tokenJti: jti };
  // Written by OidcExchange from ciIdentityOf.
  const ci = exchange.identity as CiIdentity;
  return { method: 'oidc', tokenJti: jti, exchangeId: exchange.id, ruleId: exchange.ruleId, jti: exchange.jti, repositoryPublic: exchange.repositoryPublic, ...ci };
}

const SUBJECT = /^[\p{L}\p{N}._@:+-]{1,128}$/u;
const MAX_CACHE = 10_000;

export class TokenService {
  // jti → what the database said, or null for "no such token". Cleared whenever the state epoch
  // moves; `generation` stops a lookup that started before a clear from refilling stale data.
  private cache = new Map<string, TokenState | null>();
  private generation = 0;

  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
    private readonly publishers: PublisherService,
    private readonly clock: Clock,
    private readonly changes: StateChanges,
  ) {}

  /** The grant an admin's request amounts to, or why it cannot be had. */
  async grantFor(input: IssueTokenInput): Promise<TokenGrant> {
    if (input.role === 'publisher') {
      if (!input.publisher) throw new ModelsignError('invalid_token_request', 'a publisher token needs `publisher` (its id or name)');
      const publisher = await this.publishers.find(input.publisher);
      if (!publisher) throw new ModelsignError('publisher_unknown', `no publisher ${JSON.stringify(input.publisher)}`);
      if (publisher.disabledAt) throw new ModelsignError('publisher_disabled', `publisher ${publisher.name} is disabled`);
      if (input.subject !== undefined && input.subject !== publisher.name) {
        throw new ModelsignError('invalid_token_request', 'a publisher token\'s subject is its publisher\'s name; leave `subject` out');
      }
      return { role: 'publisher', subject: publisher.name, publisherId: publisher.id, ttlMs: input.ttlMs, source: { kind: 'admin' } };
    }
    if (input.publisher !== undefined) throw new ModelsignError('invalid_token_request', `an ${input.role} token takes no publisher`);
    if (!input.subject || !SUBJECT.test(input.subject)) {
      throw new ModelsignError('invalid_token_request', `an ${input.role} token needs a subject: 1 to 128 letters, digits or ._@:+-`);
    }
    return { role: input.role, subject: input.subject, publisherId: null, ttlMs: input.ttlMs, source: { kind: 'admin' } };
  }

  /** An admin's request: grantFor, then issue. */
  async issueFor(input: IssueTokenInput, actor: string): Promise<IssuedToken> {
    return this.issue(await this.grantFor(input), actor);
  }

  /**
   * Signs and records a token for `grant`. `within` runs in the transaction that records it
   * (before the token row), so what led to the token (an OIDC exchange and its consumed jti) is
   * stored with it or not at all.
   */
  async issue(grant: TokenGrant, actor: string, within?: (tx: Tx, jti: string) => Promise<void>): Promise<IssuedToken> {
    const scope = grant.namespaces ?? [];
    const signer = this.keys.signer('token');
    const now = this.clock.now();
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + Math.ceil(grant.ttlMs / 1000);
    const jti = randomUUID();
    const expiresAt = new Date(exp * 1000);
    // The `ns` claim is informational (authority is read from the database on every request).
    const ns = grant.publisherId ? (scope.length > 0 ? scope : (await this.publishers.find(grant.publisherId))?.namespaces ?? []) : undefined;
    const token = await signJwt({ iss: TOKEN_ISSUER, sub: grant.subject, role: grant.role, ...(ns ? { ns } : {}), jti, iat, exp }, signer);
    const exchangeId = grant.source.kind === 'oidc' ? grant.source.exchangeId : null;
    await this.db.prismaTransaction(async (tx) => {
      await within?.(tx, jti);
      await insertToken(tx, { jti, role: grant.role, subject: grant.subject, publisherId: grant.publisherId, kid: signer.kid, issuedAt: new Date(iat * 1000), expiresAt, namespaces: scope, exchangeId });
      await recordAudit(tx, {
        actor,
        action: 'token.issue',
        target: `token:${jti}`,
        details: { role: grant.role, subject: grant.subject, expiresAt: expiresAt.toISOString(), ...(scope.length > 0 ? { namespaces: scope } : {}), ...(exchangeId ? { exchange: exchangeId } : {}) },
        at: now,
      });
    });
    return { token, jti, role: grant.role, subject: grant.subject, expiresAt };
  }

  /**
   * The tokens as an admin manages them, newest first: never the JWT (the service does not keep
   * it). The cursor is opaque to clients: the last item's issue time and jti.
   */
  async list(query: { limit: number; cursor?: string | undefined; publisher?: string | undefined; live?: boolean | undefined }): Promise<{ items: ListedToken[]; nextCursor: string | null }> {
    let after: { issuedAt: Date; jti: string } | undefined;
    if (query.cursor !== undefined) {
      const m = /^([0-9]{1,15})\.([0-9a-f-]{36})$/.exec(query.cursor);
      if (!m || !isUuid(m[2])) throw new ModelsignError('validation_failed', 'cursor is not one this service returned', [{ path: 'cursor', message: 'invalid cursor' }]);
      after = { issuedAt: new Date(Number(m[1])), jti: m[2]! };
    }
    let publisherId: string | undefined;
    if (query.publisher !== undefined) {
      const publisher = await this.publishers.find(query.publisher);
      if (!publisher) throw new ModelsignError('publisher_unknown', `no publisher ${JSON.stringify(query.publisher)}`);
      publisherId = publisher.id;
    }
    const now = this.clock.now();
    const rows = await listTokenRows(this.db.prisma, { after, publisherId, live: query.live ? now : undefined, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return { items: page.map((r) => ({ ...r, status: tokenStatus(r, now) })), nextCursor: rows.length > query.limit && last ? `${last.issuedAt.getTime()}.${last.jti}` : null };
  }

  /** Revokes a token; true when it was live, false when it was already revoked. */
  async revoke(jti: string, actor: string): Promise<boolean> {
    if (!isUuid(jti)) throw new ModelsignError('not_found', `no token ${JSON.stringify(jti)}`);
    const now = this.clock.now();
    const changed = await this.db.prismaTransaction(async (tx) => {
      const row = await findTokenRevocation(tx, jti);
      if (!row) throw new ModelsignError('not_found', `no token ${jti}`);
      if (row.revokedAt) return false;
      await markTokenRevoked(tx, jti, now);
      await recordAudit(tx, { actor, action: 'token.revoke', target: `token:${jti}`, at: now });
      await bumpStateEpoch(tx);
      return true;
    });
    await this.changes.publish({ what: 'tokens' });
    return changed;
  }

  /** Turns verified claims into a principal, or throws why the token is refused. */
  async authenticate(claims: TokenClaims): Promise<Principal> {
    const { jti, role } = claims;
    if (!isUuid(jti) || typeof role !== 'string') {
      throw new ModelsignError('token_invalid', 'the token lacks a valid jti or role claim');
    }
    const token = await this.lookup(jti);
    if (!token || token.role !== role || token.subject !== claims.sub) {
      throw new ModelsignError('token_invalid', 'the token was not issued by this service');
    }
    if (token.revokedAt) throw new ModelsignError('token_revoked', 'the token has been revoked');
    // The one time check of service tokens, on the service's clock (the server's JWT verifier
    // leaves time alone). Both the signed `exp` and the stored expiry count: they are equal for
    // a token this service issued, and a token signed with other times (a stolen token key) gets
    // the earlier one.
    const now = this.clock.now().getTime();
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new ModelsignError('token_invalid', 'the token\'s exp claim is not a number');
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || !(claims.nbf * 1000 <= now))) throw new ModelsignError('token_invalid', 'the token is not valid yet (nbf)');
    if (Math.min(claims.exp * 1000, token.expiresAt.getTime()) <= now) {
      throw new ModelsignError('token_expired', token.exchange ? 'the token has expired; exchange a new ID token at POST /v1/oidc/token' : 'the token has expired; ask an admin for a new one');
    }
    if (token.publisherDisabled) throw new ModelsignError('publisher_disabled', 'the publisher of this token is disabled');
    if (token.exchange?.ruleDeleted) throw new ModelsignError('token_revoked', 'the trusted-publisher rule this token was minted under has been deleted');
    // Authority comes from the database, never from the claim; a claim naming more than the
    // publisher owns means a forged or stale token, and is refused rather than silently narrowed.
    if (claims.ns !== undefined && (!Array.isArray(claims.ns) || claims.ns.some((n) => typeof n !== 'string' || !token.namespaces.includes(n)))) {
      throw new ModelsignError('token_invalid', 'the token claims namespaces its publisher does not own; ask an admin for a new token');
    }
    // An exchanged token acts for the namespaces of its rule that its publisher still owns.
    const namespaces = token.scope.length > 0 ? token.namespaces.filter((n) => token.scope.includes(n)) : token.namespaces;
    return { jti, role: token.role, subject: token.subject, publisherId: token.publisherId, namespaces, signingAlgorithms: token.signingAlgorithms, identity: identityOf(jti, token) };
  }

  /** Forget everything cached; the next request re-reads the database. */
  invalidate(): void {
    this.generation++;
    this.cache.clear();
  }

  private async lookup(jti: string): Promise<TokenState | null> {
    const cached = this.cache.get(jti);
    if (cached !== undefined) return cached;
    const generation = this.generation;
    const value = await findTokenState(this.db.prisma, jti);
    if (generation === this.generation) {
      if (this.cache.size >= MAX_CACHE) this.cache.clear();
      this.cache.set(jti, value);
    }
    return value;
  }
}
