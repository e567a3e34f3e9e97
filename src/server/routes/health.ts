// /healthz answers while the process runs; /readyz only when this instance can do its work.
import type { FastifyInstance } from 'fastify';
import { KEY_PURPOSES } from '../../services/keys.ts';

const DB_PING_TIMEOUT_MS = 1_000;
// The checkpointer looks at the log every 500 ms; ten missed looks means it is stuck.
const LOG_CURRENT_MS = 5_000;

export default async function healthRoutes(app: FastifyInstance) {
  // Probes are not rate limited: an orchestrator polling them must never be told 429.
  app.get('/healthz', { schema: app.openapi.routeSchema('getHealth'), config: { rateLimit: false } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: app.openapi.routeSchema('getReadiness'), config: { rateLimit: false } }, async (_request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const database = await Promise.race([
      app.services.db.prisma.$queryRaw`SELECT 1`.then(() => 'ok' as const),
      new Promise<'failing'>((resolve) => (timer = setTimeout(() => resolve('failing'), DB_PING_TIMEOUT_MS))),
    ])
      .catch(() => 'failing' as const)
      .finally(() => clearTimeout(timer));
    const keys = KEY_PURPOSES.every((p) => app.services.keys.hasSigner(p)) ? ('ok' as const) : ('missing' as const);
    const log = app.services.tlog.isCurrent(LOG_CURRENT_MS) ? ('ok' as const) : ('behind' as const);
    const ready = database === 'ok' && keys === 'ok' && log === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks: { database, keys, log } });
  });
}
