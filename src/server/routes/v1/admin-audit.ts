// The audit trail for admins and auditors: its events, newest first, and the hash chain recomputed.
import type { FastifyInstance } from 'fastify';
import { auditEventView } from '../../../api/audit.ts';
import type { RouteOf } from '../../../api/wire.ts';

export default async function adminAuditRoutes(app: FastifyInstance) {
  app.get<RouteOf<'listAuditEvents', 'limit'>>(
    '/audit',
    { schema: app.openapi.routeSchema('listAuditEvents'), preHandler: app.requireRole('admin', 'auditor') },
    async (request) => {
      const page = await app.services.audit.list(request.query);
      return { items: page.items.map(auditEventView), nextCursor: page.nextCursor };
    },
  );

  app.get('/audit/chain', { schema: app.openapi.routeSchema('verifyAuditChain'), preHandler: app.requireRole('admin', 'auditor') }, async () => app.services.audit.verifyChain());
}
