// Key lifecycle for admins: rotate and revoke (both answer with the keys as GET /v1/keys shows
// them), and how many signatures a revocation would invalidate.
import type { FastifyInstance } from 'fastify';
import { jwkOf } from '../../../api/keys.ts';
import type { RouteOf } from '../../../api/wire.ts';
import { algorithmNamed } from '../../../core/crypto/registry.ts';
import { ModelsignError } from '../../../core/errors.ts';
import { actorOf } from '../../../services/principal.ts';

export default async function adminKeyRoutes(app: FastifyInstance) {
  app.post<RouteOf<'rotateKey'>>(
    '/keys/rotate',
    { schema: app.openapi.routeSchema('rotateKey'), preHandler: app.requireRole('admin') },
    async (request) => {
      const algorithm = request.body.algorithm === undefined ? undefined : algorithmNamed(request.body.algorithm)!.id;
      const { previous, active } = await app.services.keys.rotate(request.body.purpose, actorOf(request.principal!), { expectedActive: request.body.expectedActive, algorithm });
      return { previous: jwkOf(previous), active: jwkOf(active) };
    },
  );

  app.post<RouteOf<'revokeKey'>>(
    '/keys/:kid/revoke',
    { schema: app.openapi.routeSchema('revokeKey'), preHandler: app.requireRole('admin') },
    async (request) => {
      const compromisedAt = compromiseTime(request.body.compromisedAt);
      const { revoked, replacement } = await app.services.keys.revoke(request.params.kid, { compromisedAt, reason: request.body.reason }, actorOf(request.principal!));
      return { revoked: jwkOf(revoked), replacement: replacement ? jwkOf(replacement) : null };
    },
  );

  app.get<RouteOf<'countKeySignatures'>>(
    '/keys/:kid/signature-count',
    { schema: app.openapi.routeSchema('countKeySignatures'), preHandler: app.requireRole('admin', 'auditor') },
    async (request) => {
      const { kid } = request.params;
      if (!app.services.keys.get(kid)) throw new ModelsignError('not_found', `no key ${JSON.stringify(kid)}`);
      return app.services.signatures.countByKey(kid, compromiseTime(request.query.compromisedAt));
    },
  );
}

/** `compromisedAt` as a Date: the schema checks the format, this the calendar (2026-02-31 is no date). */
function compromiseTime(value: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new ModelsignError('validation_failed', 'compromisedAt must be an RFC 3339 date-time', [{ path: 'compromisedAt', message: 'not a date-time' }]);
  return at;
}
