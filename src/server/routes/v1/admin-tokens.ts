// Tokens, for admins: issue (the JWT is shown once), list (never the JWT) and revoke.
import type { FastifyInstance } from 'fastify';
import type { RouteOf } from '../../../api/wire.ts';
import { parseDuration } from '../../../core/duration.ts';
import { issuedTokenView, tokenView } from '../../../api/tokens.ts';
import { actorOf } from '../../../services/principal.ts';

export default async function adminTokenRoutes(app: FastifyInstance) {
  app.post<RouteOf<'issueToken'>>(
    '/tokens',
    { schema: app.openapi.routeSchema('issueToken'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      const { role, publisher, subject, ttl } = request.body;
      const issued = await app.services.tokens.issueFor({ role, publisher, subject, ttlMs: parseDuration(ttl) }, actorOf(request.principal!));
      reply.code(201).header('cache-control', 'no-store');
      return issuedTokenView(issued);
    },
  );

  app.get<RouteOf<'listTokens', 'limit'>>(
    '/tokens',
    { schema: app.openapi.routeSchema('listTokens'), preHandler: app.requireRole('admin', 'auditor') },
    async (request, reply) => {
      const { limit, cursor, publisher, status } = request.query;
      reply.header('cache-control', 'no-store');
      const page = await app.services.tokens.list({ limit, cursor, publisher, live: status === 'active' });
      return { items: page.items.map(tokenView), nextCursor: page.nextCursor };
    },
  );

  app.delete<RouteOf<'revokeToken'>>(
    '/tokens/:jti',
    { schema: app.openapi.routeSchema('revokeToken'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      await app.services.tokens.revoke(request.params.jti, actorOf(request.principal!));
      return reply.code(204).send();
    },
  );
}
