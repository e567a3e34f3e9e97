// Trusted publishing, for admins: OIDC issuers, and the trusted-publisher rules of each publisher.
import type { FastifyInstance } from 'fastify';
import { signatureView } from '../../../api/signatures.ts';
import { issuerView, trustedPublisherView } from '../../../api/trusted-publishing.ts';
import type { RouteOf } from '../../../api/wire.ts';
import { actorOf } from '../../../services/principal.ts';

export default async function adminOidcRoutes(app: FastifyInstance) {
  app.get('/oidc-issuers', { schema: app.openapi.routeSchema('listOidcIssuers'), preHandler: app.requireRole('admin', 'auditor') }, async () => ({
    items: (await app.services.trustedPublishers.listIssuers()).map(issuerView),
  }));

  app.post<RouteOf<'addOidcIssuer'>>(
    '/oidc-issuers',
    { schema: app.openapi.routeSchema('addOidcIssuer'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      const issuer = await app.services.trustedPublishers.addIssuer(request.body, actorOf(request.principal!));
      reply.code(201).header('location', `/v1/admin/oidc-issuers/${issuer.id}`);
      return issuerView(issuer);
    },
  );

  app.delete<RouteOf<'removeOidcIssuer'>>('/oidc-issuers/:id', { schema: app.openapi.routeSchema('removeOidcIssuer'), preHandler: app.requireRole('admin') }, async (request, reply) => {
    await app.services.trustedPublishers.removeIssuer(request.params.id, actorOf(request.principal!));
    return reply.code(204).send();
  });

  app.get<RouteOf<'listTrustedPublishers'>>(
    '/publishers/:id/trusted-publishers',
    { schema: app.openapi.routeSchema('listTrustedPublishers'), preHandler: app.requireRole('admin', 'auditor') },
    async (request) => ({ items: (await app.services.trustedPublishers.listRules(request.params.id)).map(trustedPublisherView) }),
  );

  app.post<RouteOf<'addTrustedPublisher'>>(
    '/publishers/:id/trusted-publishers',
    { schema: app.openapi.routeSchema('addTrustedPublisher'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      const rule = await app.services.trustedPublishers.addRule(request.params.id, request.body, actorOf(request.principal!));
      reply.code(201).header('location', `/v1/admin/publishers/${rule.publisherId}/trusted-publishers/${rule.id}`);
      return trustedPublisherView(rule);
    },
  );

  app.delete<RouteOf<'removeTrustedPublisher'>>(
    '/publishers/:id/trusted-publishers/:ruleId',
    { schema: app.openapi.routeSchema('removeTrustedPublisher'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      await app.services.trustedPublishers.removeRule(request.params.id, request.params.ruleId, actorOf(request.principal!));
      return reply.code(204).send();
    },
  );

  app.get<RouteOf<'getSignatureIdentity'>>('/signatures/:id', { schema: app.openapi.routeSchema('getSignatureIdentity'), preHandler: app.requireRole('admin', 'auditor') }, async (request, reply) => {
    const { record, identity } = await app.services.signatures.getWithIdentity(request.params.id);
    reply.header('cache-control', 'no-store');
    return { signature: signatureView(record), signer: identity };
  });
}
