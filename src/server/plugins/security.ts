// Response hardening (helmet's headers) and the CORS policy: browsers on other
// origins may read the public, unauthenticated API (keys, signatures, bundles, the log) and ask
// for an online verification; nothing else. Tokens are bearer headers, never cookies, so no
// credentials are ever allowed cross-origin.
import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet from 'helmet';

const PUBLIC_READS = [/^\/v1\/keys(\/[^/]+)?$/, /^\/v1\/keys\/chain$/, /^\/v1\/trusted-root$/, /^\/v1\/signatures(\/[^/]+)?$/, /^\/v1\/signatures\/[^/]+\/tlog-proof$/, /^\/v1\/models\/[^/]+\/[^/]+\/versions\/[^/]+\/bundle$/, /^\/v1\/log\/(checkpoint|checkpoint\/latest|vkey|witnesses|entries|proofs\/inclusion|proofs\/consistency)$/, /^\/v1\/log\/tile\/.+$/, /^\/openapi\.yaml$/, /^\/v1\/oidc\/audience$/];

/** Whether a browser on another origin may make this request (for a preflight, the request it announces). */
export function isCorsOpen(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD') return PUBLIC_READS.some((re) => re.test(path));
  return method === 'POST' && path === '/v1/verify';
}

// The headers that matter for a JSON API and one static page (OWASP's REST list): no sniffing,
// no framing, HSTS, a CSP that loads nothing, no referrer. Helmet's other defaults protect HTML
// documents and would add seven more headers to every answer. The values come from helmet itself, but
// computed once here: @fastify/helmet builds a new helmet middleware for every request (parsing
// the CSP each time), which measured ~20 µs of CPU per request, half the cost of a cached read.
function helmetHeaders(): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], styleSrc: ["'unsafe-inline'"], frameAncestors: ["'none'"] } },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    xContentTypeOptions: true,
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xPoweredBy: false,
    xXssProtection: false,
  })({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return Object.freeze(headers);
}

const SECURITY_HEADERS = helmetHeaders();

const CORS_HEADERS = Object.freeze({
  'access-control-allow-origin': '*',
  // etag: a page polling the checkpoint (a monitor, the console elsewhere) revalidates with it.
  'access-control-expose-headers': 'etag, retry-after, x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset',
});

export default fp(
  async function securityPlugin(app) {
    // CORS is decided per route once, when routes are registered; preflights (OPTIONS, which
    // have no route) by path. Written here rather than with @fastify/cors, whose per-request
    // option handling (a delegator is the only way to open some routes and not others) measured
    // ~20 µs of CPU per request, half the cost of a cached read.
    app.addHook('onRoute', (route) => {
      if ([route.method].flat().some((m) => isCorsOpen(m, route.url))) route.config = { ...route.config, corsOpen: true };
    });
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(SECURITY_HEADERS);
      if (request.routeOptions.config?.corsOpen === true) {
        // Sent whether or not the request has an Origin, so a shared cache never serves a copy
        // without them to a browser.
        reply.headers(CORS_HEADERS);
        return done();
      }
      const announced = request.headers['access-control-request-method'];
      if (request.method !== 'OPTIONS' || typeof announced !== 'string' || request.headers.origin === undefined) return done();
      const method = announced.toUpperCase();
      // A preflight for anything else falls through to a problem+json 404: no CORS headers.
      if (!isCorsOpen(method, request.url.split('?')[0]!)) return done();
      void reply
        .code(204)
        .headers({ ...CORS_HEADERS, 'access-control-allow-methods': method === 'POST' ? 'POST' : 'GET, HEAD', 'access-control-allow-headers': 'content-type, if-none-match, x-request-id', 'access-control-max-age': '600' })
        .send();
    });
  },
  { name: 'modelsign-security' },
);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on routes browsers on other origins may call (see isCorsOpen). */
    corsOpen?: boolean;
  }
}
