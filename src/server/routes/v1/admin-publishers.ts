// Publishers, for admins (and read-only for auditors).
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../../services/principal.ts';

export default async function adminPublisherRoutes(app: FastifyInstance) {
  app.post<{ Body: { name: string; namespaces: string[] } }>(
    '/publishers',
    { schema: app.openapi.routeSchema('createPublisher'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      const publisher = await app.services.publishers.create(request.body, actorOf(request.principal!));
      reply.code(201).header('location', `/v1/admin/publishers/${publisher.id}`);
      return publisher;
    },
  );

  app.get('/publishers', { schema: app.openapi.routeSchema('listPublishers'), preHandler: app.requireRole('admin', 'auditor') }, async () => ({
    items: await app.services.publishers.list(),
  }));
}
