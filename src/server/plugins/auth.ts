// Bearer-token authentication: @fastify/jwt checks the signature (by the token key named by the
// header's kid, with the JWS alg of that key's algorithm), issuer and required claims; TokenService
// then checks the token's times (on the service's clock), revocation and the publisher's current
// state. Routes declare who may call them with `preHandler: app.requireRole(...)`.
import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { fromBase64Url, fromUtf8 } from '../../core/bytes.ts';
import { spkiPem } from '../../core/crypto/public-key.ts';
import { ALGORITHMS, algorithmOf, algorithmOfJws } from '../../core/crypto/registry.ts';
import { ModelsignError } from '../../core/errors.ts';
import { TOKEN_ISSUER, type Role } from '../../core/tokens.ts';
import type { Principal } from '../../services/principal.ts';
import { addressBucket } from '../client-address.ts';
import { FixedWindows } from '../../services/support/fixed-window.ts';

declare module 'fastify' {
  interface FastifyInstance {
    requireRole(...roles: Role[]): preHandlerAsyncHookHandler;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Set on routes guarded by requireRole (the rate limits count these per token). */
    authenticated?: boolean;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

function readHeader(segment: string): { alg?: unknown; kid?: unknown } | undefined {
  const bytes = fromBase64Url(segment);
  if (!bytes) return undefined;
  try {
    const header: unknown = JSON.parse(fromUtf8(bytes));
    return typeof header === 'object' && header !== null ? header : undefined;
  } catch {
    return undefined;
  }
}

// Every JWS alg some key algorithm uses; which one a token may use is its key's.
const JWS_ALGS = [...new Set(Object.values(ALGORITHMS).map((a) => a.jwsAlg))];

const REFUSALS = new Set(['token_missing', 'token_malformed', 'token_invalid', 'token_expired', 'token_revoked', 'publisher_disabled', 'forbidden_role']);

export interface AuthOptions {
  /**
   * Refused authentications a minute per client address (an IPv6 /64) before further refusals
   * are answered 429 and no longer written to the audit trail one by one; 0 = no cap. Counted
   * per instance. A request whose token verifies is never blocked by it, and a valid token with
   * the wrong role (forbidden_role) is neither counted nor blocked.
   */
  refusalsPerMinute?: number;
}

const WINDOW_MS = 60_000;
const MAX_ADDRESSES = 100_000;

export default fp<AuthOptions>(
  async function authPlugin(app, options) {
    const cap = options.refusalsPerMinute ?? 0;
    // Refusals per address in the current minute. Counting after verification (never before)
    // is what keeps a valid token usable from an address that is also sending garbage.
    const refusals = new FixedWindows(WINDOW_MS, MAX_ADDRESSES, app.services.clock);
    app.addHook('onClose', async () => refusals.close());
    /** Counts one refusal; the seconds to wait when the address is past the cap, else undefined. */
    const overCap = (request: FastifyRequest): number | undefined => {
      if (cap === 0) return undefined;
      const address = addressBucket(request.ip);
      const { count, retryAfterSeconds } = refusals.hit(address);
      if (count <= cap) return undefined;
      // One line per address and minute, not one per refusal.
      if (count === cap + 1) request.log.warn({ address }, `more than ${cap} refused authentications a minute from this address: answering 429 and not recording each in the audit trail until the minute ends`);
      return retryAfterSeconds;
    };

    const publicPems = new Map<string, string>();
    const pemOf = (kid: string, alg: unknown): string | undefined => {
      const key = app.services.keys.get(kid);
      // Only token keys verify tokens: a JWT "signed" by a release or log key is refused. A
      // retired token key still verifies the tokens it issued until they expire.
      if (!key || key.purpose !== 'token' || (key.status !== 'active' && key.status !== 'retired')) return undefined;
      if (algorithmOf(key.algorithm).jwsAlg !== alg) return undefined;
      let pem = publicPems.get(kid);
      if (!pem) publicPems.set(kid, (pem = spkiPem(key)));
      return pem;
    };

    await app.register(fastifyJwt, {
      secret: {
        public: async (_request: FastifyRequest, token: TokenOrHeader) => {
          const kid = 'header' in token ? token.header.kid : undefined;
          const alg = 'header' in token ? token.header.alg : undefined;
          let pem = typeof kid === 'string' ? pemOf(kid, alg) : undefined;
          // A token key another instance rotated in moments ago: look before refusing.
          if (!pem && typeof kid === 'string' && !app.services.keys.get(kid)) {
            await app.services.keys.refresh();
            pem = pemOf(kid, alg);
          }
          if (!pem) throw new ModelsignError('token_invalid', 'the token is signed by a key this service does not accept for tokens');
          return pem;
        },
      },
      decode: { complete: true },
      // No time checks here: fast-jwt would judge `exp`/`nbf` by the wall clock, a second clock
      // beside the service's injected one (a token minted on one and refused by the other).
      // TokenService.authenticate checks `exp`, `nbf` and the stored expiry once, on the
      // service's clock.
      verify: { algorithms: JWS_ALGS as never, allowedIss: TOKEN_ISSUER, requiredClaims: ['iss', 'jti', 'sub', 'role', 'iat', 'exp'], ignoreExpiration: true, ignoreNotBefore: true },
    });

    app.decorateRequest('principal', null);

    // Tokens already verified, by their text: a release pipeline sends the same token many
    // times, and the signature check is the largest CPU cost of a signing request. A hit still
    // goes through TokenService (revocation, expiry, publisher state) and re-checks that the key
    // that signed the token is still accepted, so nothing is trusted longer than it should be.
    const verified = new Map<string, { kid: string; claims: Record<string, unknown> }>();
    const MAX_VERIFIED = 10_000;

    async function authenticate(request: FastifyRequest): Promise<Principal> {
      const header = request.headers.authorization;
      if (header === undefined || header === '') throw new ModelsignError('token_missing', 'send `Authorization: Bearer <token>`');
      const match = BEARER.exec(header);
      if (!match) throw new ModelsignError('token_malformed', 'the Authorization header must be `Bearer <JWT>` (three base64url segments)');
      const jwtHeader = readHeader(match[1]!);
      if (!jwtHeader || !algorithmOfJws(jwtHeader.alg) || typeof jwtHeader.kid !== 'string') {
        throw new ModelsignError('token_malformed', `the token header must be JSON with alg ${JWS_ALGS.join(' or ')} and a kid`);
      }
      const token = header.slice(7);
      const hit = verified.get(token);
      if (hit && pemOf(hit.kid, jwtHeader.alg)) return app.services.tokens.authenticate(hit.claims);
      let claims: Record<string, unknown>;
      try {
        // `decode.complete` hands the header (and its kid) to the key lookup; the verifier
        // itself returns only the claims.
        claims = await request.jwtVerify<Record<string, unknown>>();
      } catch (err) {
        if (err instanceof ModelsignError) throw err;
        const code = (err as { code?: string }).code;
        if (code === 'FST_JWT_BAD_REQUEST') throw new ModelsignError('token_malformed', 'the Authorization header must be `Bearer <JWT>`');
        throw new ModelsignError('token_invalid', 'the token is not one this service issued (signature, issuer or claims do not check out)');
      }
      const principal = await app.services.tokens.authenticate(claims);
      if (verified.size >= MAX_VERIFIED) verified.clear();
      verified.set(token, { kid: jwtHeader.kid, claims });
      return principal;
    }

    // Refused authentication goes into the audit trail (never the token: only the code, the
    // route and the client address). A failure to record it is logged, and the refusal stands.
    async function recordRefusal(request: FastifyRequest, code: string): Promise<void> {
      try {
        await app.services.audit.refused({ code, method: request.method, route: request.routeOptions.url ?? request.url, ip: request.ip, at: app.services.clock.now() });
      } catch (err) {
        request.log.warn({ err }, 'could not record a refused authentication in the audit trail');
      }
    }

    // Routes guarded by requireRole are marked `config.authenticated`, so the rate limits can
    // count them per token rather than per address.
    const guards = new WeakSet<object>();
    app.addHook('onRoute', (route) => {
      const pre = route.preHandler === undefined ? [] : [route.preHandler].flat();
      if (pre.some((h) => guards.has(h))) route.config = { ...route.config, authenticated: true };
    });

    app.decorate('requireRole', (...roles: Role[]) => {
      const guard = async function requireRole(request: FastifyRequest, reply: FastifyReply) {
        try {
          const principal = await authenticate(request);
          request.principal = principal;
          if (!roles.includes(principal.role)) {
            throw new ModelsignError('forbidden_role', `this route is for ${roles.join(' or ')} tokens; this is a ${principal.role} token`);
          }
        } catch (err) {
          if (err instanceof ModelsignError && REFUSALS.has(err.code)) {
            const wait = err.code === 'forbidden_role' ? undefined : overCap(request);
            if (wait !== undefined) {
              reply.header('retry-after', wait);
              throw new ModelsignError('rate_limited', `more than ${cap} refused authentications a minute from this address; retry in ${wait} s`);
            }
            await recordRefusal(request, err.code);
          }
          throw err;
        }
      };
      guards.add(guard);
      return guard;
    });
  },
  { name: 'modelsign-auth', dependencies: ['modelsign-services'] },
);
