// /healthz answers while the process runs; /readyz while this instance can serve reads, saying
// whether it can also sign (services/health.ts defines it).
import type { FastifyInstance } from 'fastify';

export default async function healthRoutes(app: FastifyInstance) {
  // Probes are not rate limited: an orchestrator polling them must never be told 429.
  app.get('/healthz', { schema: app.openapi.routeSchema('getHealth'), config: { rateLimit: false } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: app.openapi.routeSchema('getReadiness'), config: { rateLimit: false } }, async (_request, reply) => {
    const { ready, signing, checks, witnessAlarms } = await app.services.health.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', signing, checks, ...(witnessAlarms.length > 0 ? { witnessAlarms } : {}) });
  });
}
