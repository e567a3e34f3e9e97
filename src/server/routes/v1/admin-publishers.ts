// Publishers, for admins (and read-only for auditors).
import type { FastifyInstance } from 'fastify';
import { publisherView } from '../../../api/publishers.ts';
import type { RouteOf } from '../../../api/wire.ts';
import { actorOf } from '../../../services/principal.ts';

export default async function adminPublisherRoutes(app: FastifyInstance) {
  app.post<RouteOf<'createPublisher'>>(
    '/publishers',
    { schema: app.openapi.routeSchema('createPublisher'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      const publisher = await app.services.publishers.create(request.body, actorOf(request.principal!));
      reply.code(201).header('location', `/v1/admin/publishers/${publisher.id}`);
      return publisherView(publisher);
    },
  );

  app.patch<RouteOf<'updatePublisher'>>(
    '/publishers/:id',
    { schema: app.openapi.routeSchema('updatePublisher'), preHandler: app.requireRole('admin') },
    async (request) => {
      // This instance refuses a disabled publisher's tokens from the next request; others
      // follow within one state poll.
      return publisherView(await app.services.publishers.update(request.params.id, request.body, actorOf(request.principal!)));
    },
  );

  app.get('/publishers', { schema: app.openapi.routeSchema('listPublishers'), preHandler: app.requireRole('admin', 'auditor') }, async () => ({
    items: (await app.services.publishers.list()).map(publisherView),
  }));
}
