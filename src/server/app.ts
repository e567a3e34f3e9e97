// buildApp(): the HTTP face of one modelsign instance. Plugins first (errors, services, auth),
// then thin routes that validate against openapi.yaml and call services.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Services } from '../services/index.ts';
import { loadOpenApi, type OpenApiDocument } from './openapi.ts';
import authPlugin from './plugins/auth.ts';
import errorsPlugin from './plugins/errors.ts';
import servicesPlugin from './plugins/services.ts';
import docsRoutes from './routes/docs.ts';
import healthRoutes from './routes/health.ts';
import adminPublisherRoutes from './routes/v1/admin-publishers.ts';
import adminTokenRoutes from './routes/v1/admin-tokens.ts';
import adminKeyRoutes from './routes/v1/admin-keys.ts';
import keyRoutes from './routes/v1/keys.ts';
import modelRoutes from './routes/v1/models.ts';
import signatureRoutes from './routes/v1/signatures.ts';
import verifyRoutes from './routes/v1/verify.ts';
import logRoutes from './routes/v1/log.ts';
import { validatorCompiler } from './validation.ts';

export interface AppOptions {
  services: Services;
  logger?: Logger | undefined;
  openapi?: OpenApiDocument;
}

declare module 'fastify' {
  interface FastifyInstance {
    openapi: OpenApiDocument;
    /** Every route registered, as `METHOD /path` (HEAD twins of GET routes left out). */
    routeTable: string[];
  }
}

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
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 5_000,
  }) as unknown as FastifyInstance;

  app.setValidatorCompiler(validatorCompiler());
  // JSON is the only body this API takes; anything else is 415, not a string to validate.
  app.removeContentTypeParser('text/plain');
  app.decorate('openapi', options.openapi ?? loadOpenApi());
  const routeTable: string[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routeTable.push(`${method} ${route.url}`);
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(errorsPlugin);
  await app.register(servicesPlugin, { services: options.services });
  await app.register(authPlugin);

  await app.register(healthRoutes);
  await app.register(docsRoutes);
  await app.register(keyRoutes, { prefix: '/v1' });
  await app.register(signatureRoutes, { prefix: '/v1' });
  await app.register(modelRoutes, { prefix: '/v1' });
  await app.register(verifyRoutes, { prefix: '/v1' });
  await app.register(logRoutes, { prefix: '/v1' });
  await app.register(adminPublisherRoutes, { prefix: '/v1/admin' });
  await app.register(adminTokenRoutes, { prefix: '/v1/admin' });
  await app.register(adminKeyRoutes, { prefix: '/v1/admin' });
  return app;
}
