// Public keys: the JWKS clients cache, and single keys with their PEM (the kid is its SHA-256).
import type { FastifyInstance } from 'fastify';
import { chainDocument, jwkOf, keyView } from '../../../api/keys.ts';
import { trustedRoot } from '../../../api/trusted-root.ts';
import type { RouteOf } from '../../../api/wire.ts';
import { ModelsignError } from '../../../core/errors.ts';

export default async function keyRoutes(app: FastifyInstance) {
  app.get('/keys', { schema: app.openapi.routeSchema('listKeys') }, async (_request, reply) => {
    // Short-lived caching: clients must learn of a revocation quickly.
    reply.header('cache-control', 'public, max-age=30');
    return { keys: app.services.keys.list().map(jwkOf) };
  });

  app.get('/keys/chain', { schema: app.openapi.routeSchema('getKeyChain') }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=30');
    return chainDocument(await app.services.keys.chain());
  });

  app.get('/trusted-root', { schema: app.openapi.routeSchema('getTrustedRoot') }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=30');
    return trustedRoot(app.services.keys.list(), app.services.log.origin, app.publicUrl);
  });

  app.get<RouteOf<'getKey'>>('/keys/:kid', { schema: app.openapi.routeSchema('getKey') }, async (request, reply) => {
    const key = app.services.keys.get(request.params.kid);
    if (!key) throw new ModelsignError('not_found', `no key with kid ${JSON.stringify(request.params.kid)}`);
    reply.header('cache-control', 'public, max-age=30');
    return keyView(key);
  });
}
