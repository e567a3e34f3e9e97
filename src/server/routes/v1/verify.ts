// Online verification for clients that would rather ask than carry the verifier.
import type { FastifyInstance } from 'fastify';
import type { RouteOf } from '../../../api/wire.ts';

export default async function verifyRoutes(app: FastifyInstance) {
  app.post<RouteOf<'verifyBundle'>>(
    '/verify',
    { schema: app.openapi.routeSchema('verifyBundle'), bodyLimit: 8 * 1024 * 1024 },
    async (request) => {
      const verdict = await app.services.verification.verify(request.body.bundle, request.body.files, { policy: request.body.policy, proof: request.body.proof });
      app.metrics.verified(verdict);
      return verdict;
    },
  );
}
