// buildApp(): the HTTP face of one modelsign instance. Plugins first (errors, services, auth),
// then thin routes that validate against openapi.yaml, call services and present their results
// with src/api. The instance around it (runtime, listening, drain) is src/app/instance.ts.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ModelsignError } from '../core/errors.ts';
import type { Services } from '../services/index.ts';
import { loadOpenApi, type OpenApiDocument } from './openapi.ts';
import { problem, PROBLEM_CONTENT_TYPE } from './problem.ts';
import authPlugin from './plugins/auth.ts';
import errorsPlugin, { sendProblem } from './plugins/errors.ts';
import metricsPlugin from './plugins/metrics.ts';
import rateLimitPlugin, { type RateLimitOptions } from './plugins/rate-limits.ts';
import securityPlugin from './plugins/security.ts';
import servicesPlugin from './plugins/services.ts';
import docsRoutes from './routes/docs.ts';
import webRoutes, { type WebMode } from './routes/web.ts';
import healthRoutes from './routes/health.ts';
import adminPublisherRoutes from './routes/v1/admin-publishers.ts';
import adminTokenRoutes from './routes/v1/admin-tokens.ts';
import adminAuditRoutes from './routes/v1/admin-audit.ts';
import adminKeyRoutes from './routes/v1/admin-keys.ts';
import adminOidcRoutes from './routes/v1/admin-oidc.ts';
import oidcRoutes from './routes/v1/oidc.ts';
import keyRoutes from './routes/v1/keys.ts';
import modelRoutes from './routes/v1/models.ts';
import signatureRoutes from './routes/v1/signatures.ts';
import verifyRoutes from './routes/v1/verify.ts';
import logRoutes from './routes/v1/log.ts';
import { validatorCompiler } from './validation.ts';
import { fastifyTrustProxy } from './client-address.ts';

export interface AppOptions {
  services: Services;
  logger?: Logger | undefined;
  openapi?: OpenApiDocument;
  /** Per-address and per-token limits; undefined = none (tests that are not about limits). */
  rateLimit?: RateLimitOptions | undefined;
  /** Refused authentications a minute per address before 429 (plugins/auth.ts); default 0, none. */
  authRefusalsPerMinute?: number | undefined;
  /** ID-token exchanges a minute per address (config.ts oidc.perAddressPerMinute); default 0, none. */
  oidcExchangesPerMinute?: number | undefined;
  /** X-Forwarded-For trust (Fastify's trustProxy). */
  trustProxy?: boolean | number | string[];
  /** config.ts: MODELSIGN_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs: number;
  /** Export Node's process metrics too (a served process; tests leave it off). */
  processMetrics?: boolean;
  /** config.ts: MODELSIGN_WEB (default all). */
  web?: WebMode | undefined;
  /** config.ts: MODELSIGN_PUBLIC_URL, the trusted root's baseUrl (the log's origin is the log service's). */
  publicUrl: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    openapi: OpenApiDocument;
    /** MODELSIGN_PUBLIC_URL (AppOptions.publicUrl). */
    publicUrl: string;
    /** Every route registered, as `METHOD /path` (HEAD twins of GET routes left out). */
    routeTable: string[];
    /** Whether the instance is shutting down: new requests get 503 and readiness fails. */
    draining: boolean;
    /** Starts shutting down: refuses new requests from now on; in-flight ones complete. */
    drain(): void;
  }
}

const CLIENT_ERROR_DETAIL = {
  request_timeout: 'the request did not arrive in full in time',
  headers_too_large: 'the request headers are too large',
  malformed_request: 'the bytes received are not a valid HTTP/1.1 request',
} as const;

// Errors below HTTP (a request that never completed, oversized headers, garbage bytes) still
// leave as problem+json, written to the socket because no request object exists.
function clientError(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: keyof typeof CLIENT_ERROR_DETAIL = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'malformed_request';
  this.log.debug({ code: err.code }, 'client error');
  if (socket.writable) {
    const answer = problem(code, CLIENT_ERROR_DETAIL[code]);
    const body = JSON.stringify(answer);
    socket.write(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** The path of the first string holding U+0000 in a parsed request part, if any. */
function nulIn(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (key.includes('\u0000')) return `${path} (a property name)`;
    const found = nulIn(child, `${path}/${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

// Fastify takes a hop count at run time but not in its types.

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 256, ignoreTrailingSlash: false },
    requestIdHeader: 'x-request-id',
    // Take a caller's request id only when it is short and plain, so it is safe to log and echo.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestTimeout: options.requestTimeoutMs,
    // Headers must arrive promptly (slowloris); the whole request is bounded by requestTimeout.
    connectionTimeout: options.requestTimeoutMs * 2,
    keepAliveTimeout: 5_000,
    trustProxy: fastifyTrustProxy(options.trustProxy),
    // Our own onRequest hook answers requests that arrive while draining, with problem+json.
    return503OnClosing: false,
    // Node checks request timeouts on this interval (30 s by default, which would let a slow
    // client hold a connection for up to twice the timeout).
    http: { connectionsCheckingInterval: Math.min(5_000, Math.ceil(options.requestTimeoutMs / 4)) },
    clientErrorHandler: clientError,
    // Errors the router raises before any hook or handler (a malformed or overlong path).
    frameworkErrors: (err, request, reply) => {
      const detail = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is longer than 256 characters' : 'the URL is malformed';
      void sendProblem(request, reply, 'validation_failed', detail);
    },
  }) as unknown as FastifyInstance;
  if (app.server) app.server.headersTimeout = Math.min(10_000, options.requestTimeoutMs);

  app.setValidatorCompiler(validatorCompiler());
  // JSON is the only body this API takes; anything else is 415, not a string to validate.
  app.removeContentTypeParser('text/plain');
  app.decorate('openapi', options.openapi ?? loadOpenApi());
  app.decorate('publicUrl', options.publicUrl);
  const routeTable: string[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routeTable.push(`${method} ${route.url}`);
  });
  app.decorate('draining', false);
  app.decorate('drain', () => {
    app.draining = true;
  });
  // Hooks on every request are callback-style: async hooks cost a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    if (!app.draining) return done();
    reply.header('connection', 'close');
    void sendProblem(request, reply, 'unavailable', 'this instance is shutting down; retry (another instance will answer)');
  });

  // PostgreSQL text cannot hold NUL; URLs can. Path and query values go straight into lookups,
  // so a NUL there is refused for every route before any query sees it. Body fields have their
  // own validators with more specific codes (invalid_path...); a NUL that gets past them into a
  // statement is answered 400 by the error handler (isInvalidTextError), not 500.
  app.addHook('preValidation', (request, _reply, done) => {
    // Only the parts a route reads (routes without a query schema ignore the query).
    const schema = request.routeOptions.schema;
    const where = schema && ((schema.params ? nulIn(request.params, 'params') : undefined) ?? (schema.querystring ? nulIn(request.query, 'query') : undefined));
    done(where ? new ModelsignError('validation_failed', `${where} contains a NUL character, which no field accepts`) : undefined);
  });

  await app.register(errorsPlugin);
  await app.register(servicesPlugin, { services: options.services });
  await app.register(authPlugin, { refusalsPerMinute: options.authRefusalsPerMinute ?? 0 });
  if (options.rateLimit) await app.register(rateLimitPlugin, options.rateLimit);
  await app.register(securityPlugin);
  await app.register(metricsPlugin, { processMetrics: options.processMetrics ?? false });

  await app.register(healthRoutes);
  await app.register(docsRoutes);
  await app.register(webRoutes, { mode: options.web ?? 'all' });
  await app.register(keyRoutes, { prefix: '/v1' });
  await app.register(signatureRoutes, { prefix: '/v1' });
  await app.register(modelRoutes, { prefix: '/v1' });
  await app.register(verifyRoutes, { prefix: '/v1' });
  await app.register(logRoutes, { prefix: '/v1' });
  await app.register(adminPublisherRoutes, { prefix: '/v1/admin' });
  await app.register(adminTokenRoutes, { prefix: '/v1/admin' });
  await app.register(adminKeyRoutes, { prefix: '/v1/admin' });
  await app.register(adminAuditRoutes, { prefix: '/v1/admin' });
  await app.register(oidcRoutes, { prefix: '/v1', perAddressPerMinute: options.oidcExchangesPerMinute ?? 0 });
  await app.register(adminOidcRoutes, { prefix: '/v1/admin' });
  return app;
}
