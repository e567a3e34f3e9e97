// Makes the services of this instance available to routes as `app.services`.
import fp from 'fastify-plugin';
import type { Services } from '../../services/index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

export default fp<{ services: Services }>(
  async function servicesPlugin(app, options) {
    app.decorate('services', options.services);
  },
  { name: 'modelsign-services' },
);
