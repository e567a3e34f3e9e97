// /healthz answers while the process runs; /readyz only when this instance can do its work
// (services/health.ts says what that takes).
import type { FastifyInstance } from 'fastify';

export default async function healthRoutes(app: FastifyInstance) {
  // Probes are not rate limited: an orchestrator polling them must never be told 429.
  app.get('/healthz', { schema: app.openapi.routeSchema('getHealth'), config: { rateLimit: false } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: app.openapi.routeSchema('getReadiness'), config: { rateLimit: false } }, async (_request, reply) => {
    const { ready, checks } = await app.services.health.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });
}
