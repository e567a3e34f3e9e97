// Response hardening (@fastify/helmet) and the CORS policy (@fastify/cors): browsers on other
// origins may read the public, unauthenticated API (keys, signatures, bundles, the log) and ask
// for an online verification; nothing else. Tokens are bearer headers, never cookies, so no
// credentials are ever allowed cross-origin.
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

const PUBLIC_READS = [/^\/v1\/keys(\/[^/]+)?$/, /^\/v1\/keys\/chain$/, /^\/v1\/signatures(\/[^/]+)?$/, /^\/v1\/models\/[^/]+\/[^/]+\/versions\/[^/]+\/bundle$/, /^\/v1\/log\/(checkpoint|entries|proofs\/inclusion|proofs\/consistency)$/, /^\/openapi\.yaml$/];

/** Whether a browser on another origin may make this request (for a preflight, the request it announces). */
export function isCorsOpen(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD') return PUBLIC_READS.some((re) => re.test(path));
  return method === 'POST' && path === '/v1/verify';
}

const EXPOSED = ['retry-after', 'x-request-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];

export default fp(
  async function securityPlugin(app) {
    await app.register(helmet, {
      // An API and one static page with an inline style sheet: nothing else may load or frame it.
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], styleSrc: ["'unsafe-inline'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] },
      },
      crossOriginEmbedderPolicy: false,
    });
    await app.register(cors, {
      hook: 'onRequest',
      // A preflight without Origin is not a browser's: let it fall through to a problem+json 404
      // rather than the plugin's plain-text 400.
      strictPreflight: false,
      delegator: (request: FastifyRequest, callback) => {
        const announced = request.headers['access-control-request-method'];
        const method = request.method === 'OPTIONS' && typeof announced === 'string' ? announced.toUpperCase() : request.method;
        const path = request.url.split('?')[0]!;
        if (!isCorsOpen(method, path)) return callback(null, { origin: false });
        callback(null, {
          origin: '*',
          methods: method === 'POST' ? ['POST'] : ['GET', 'HEAD'],
          allowedHeaders: ['content-type', 'x-request-id'],
          exposedHeaders: EXPOSED,
          credentials: false,
          maxAge: 600,
        });
      },
    });
  },
  { name: 'modelsign-security' },
);
