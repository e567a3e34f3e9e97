// Public keys: the JWKS clients cache, and single keys with their PEM (the kid is its SHA-256).
import type { FastifyInstance } from 'fastify';
import { ModelsignError } from '../../../core/errors.ts';
import { spkiPem, toJwk } from '../../../core/public-key.ts';
import type { KeyRecord } from '../../../services/keys.ts';

export function jwkOf(key: KeyRecord) {
  return {
    ...toJwk(key.publicKey),
    kid: key.kid,
    alg: 'EdDSA',
    use: 'sig',
    purpose: key.purpose,
    status: key.status,
    createdAt: key.createdAt,
    activatedAt: key.activatedAt,
    activatesAt: key.activatesAt,
    retiredAt: key.retiredAt,
    revokedAt: key.revokedAt,
    compromisedAt: key.compromisedAt,
    reason: key.reason,
  };
}

export default async function keyRoutes(app: FastifyInstance) {
  app.get('/keys', { schema: app.openapi.routeSchema('listKeys') }, async (_request, reply) => {
    // Short-lived caching: clients must learn of a revocation quickly.
    reply.header('cache-control', 'public, max-age=30');
    return { keys: app.services.keys.list().map(jwkOf) };
  });

  app.get('/keys/chain', { schema: app.openapi.routeSchema('getKeyChain') }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=30');
    return app.services.keys.chain();
  });

  app.get<{ Params: { kid: string } }>('/keys/:kid', { schema: app.openapi.routeSchema('getKey') }, async (request, reply) => {
    const key = app.services.keys.get(request.params.kid);
    if (!key) throw new ModelsignError('not_found', `no key with kid ${JSON.stringify(request.params.kid)}`);
    reply.header('cache-control', 'public, max-age=30');
    return { kid: key.kid, jwk: jwkOf(key), pem: spkiPem(key.publicKey) };
  });
}
