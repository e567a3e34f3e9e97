// The audit trail for admins and auditors: its events, newest first, and the hash chain recomputed.
import type { FastifyInstance } from 'fastify';

export default async function adminAuditRoutes(app: FastifyInstance) {
  app.get<{ Querystring: { limit: number; cursor?: number; action?: string } }>(
    '/audit',
    { schema: app.openapi.routeSchema('listAuditEvents'), preHandler: app.requireRole('admin', 'auditor') },
    async (request) => app.services.audit.list(request.query),
  );

  app.get('/audit/chain', { schema: app.openapi.routeSchema('verifyAuditChain'), preHandler: app.requireRole('admin', 'auditor') }, async () => app.services.audit.verifyChain());
}
