// The bundle of a release by name, exactly as it should be saved next to the model.
import type { FastifyInstance } from 'fastify';
import type { RouteOf } from '../../../api/wire.ts';
import { ModelsignError } from '../../../core/errors.ts';

export default async function modelRoutes(app: FastifyInstance) {
  app.get<RouteOf<'getReleaseBundle'>>(
    '/models/:namespace/:name/versions/:version/bundle',
    { schema: app.openapi.routeSchema('getReleaseBundle') },
    async (request, reply) => {
      const { namespace, name, version } = request.params;
      const record = await app.services.signatures.findRelease(`${namespace}/${name}`, version);
      if (!record) throw new ModelsignError('not_found', `no signature for ${namespace}/${name}@${version}`);
      return reply
        .type('application/json; charset=utf-8')
        .header('content-disposition', 'attachment; filename="model.sig"')
        .header('cache-control', 'no-cache')
        .send(JSON.stringify(record.bundle));
    },
  );
}
