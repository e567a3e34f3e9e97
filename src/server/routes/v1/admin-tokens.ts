// Tokens, for admins: issue (the JWT is shown once), list (never the JWT) and revoke.
import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../../../core/duration.ts';
import { actorOf, type Role } from '../../../services/principal.ts';

export default async function adminTokenRoutes(app: FastifyInstance) {
  app.post<{ Body: { role: Role; publisher?: string; subject?: string; ttl: string } }>(
    '/tokens',
    { schema: app.openapi.routeSchema('issueToken'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      const { role, publisher, subject, ttl } = request.body;
      const issued = await app.services.tokens.issueFor({ role, publisher, subject, ttlMs: parseDuration(ttl) }, actorOf(request.principal!));
      reply.code(201).header('cache-control', 'no-store');
      return issued;
    },
  );

  app.get<{ Querystring: { limit: number; cursor?: string; publisher?: string; status?: 'active' | 'all' } }>(
    '/tokens',
    { schema: app.openapi.routeSchema('listTokens'), preHandler: app.requireRole('admin', 'auditor') },
    async (request, reply) => {
      const { limit, cursor, publisher, status } = request.query;
      reply.header('cache-control', 'no-store');
      return app.services.tokens.list({ limit, cursor, publisher, live: status === 'active' });
    },
  );

  app.delete<{ Params: { jti: string } }>(
    '/tokens/:jti',
    { schema: app.openapi.routeSchema('revokeToken'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      await app.services.tokens.revoke(request.params.jti, actorOf(request.principal!));
      return reply.code(204).send();
    },
  );
}
