// Trusted publishing: the audience a CI job asks its ID token for, and the exchange.
import type { FastifyInstance } from 'fastify';
import type { RouteOf } from '../../../api/wire.ts';
import { ModelsignError } from '../../../core/errors.ts';
import { addressBucket } from '../../client-address.ts';
import { FixedWindows } from '../../../services/support/fixed-window.ts';

export interface OidcRouteOptions {
  /** Exchanges a minute per client address (per instance); 0 = no limit. */
  perAddressPerMinute: number;
}

export default async function oidcRoutes(app: FastifyInstance, options: OidcRouteOptions) {
  const windows = new FixedWindows(60_000, 100_000, app.services.clock);
  app.addHook('onClose', async () => windows.close());

  app.get('/oidc/audience', { schema: app.openapi.routeSchema('getOidcAudience') }, async () => ({ audience: app.services.oidc.audience }));

  app.post<RouteOf<'exchangeOidcToken'>>(
    '/oidc/token',
    {
      schema: app.openapi.routeSchema('exchangeOidcToken'),
      bodyLimit: 16 * 1024,
      // Counted here before anything is parsed: the limit also caps work for garbage.
      onRequest: (request, reply, done) => {
        const max = options.perAddressPerMinute;
        if (max === 0) return done();
        const { count, retryAfterSeconds } = windows.hit(addressBucket(request.ip));
        if (count <= max) return done();
        app.metrics.oidcExchange('rate_limited');
        reply.header('retry-after', retryAfterSeconds);
        done(new ModelsignError('rate_limited', `more than ${max} ID-token exchanges a minute from this address; retry in ${retryAfterSeconds} s`));
      },
    },
    async (request, reply) => {
      try {
        const minted = await app.services.oidc.exchange(request.body.token, request.body.publisher);
        app.metrics.oidcExchange('minted');
        reply.code(201).header('cache-control', 'no-store');
        return { token: minted.token, jti: minted.jti, expiresAt: minted.expiresAt, publisher: minted.publisher, namespaces: minted.namespaces };
      } catch (err) {
        if (err instanceof ModelsignError) {
          // Refusals are counted (one series per code), not each written to the audit trail.
          app.metrics.oidcExchange(err.code);
          const wait = err.errors?.[0]?.retryAfterSeconds;
          if (err.code === 'rate_limited' && typeof wait === 'number') reply.header('retry-after', wait);
        }
        throw err;
      }
    },
  );
}
