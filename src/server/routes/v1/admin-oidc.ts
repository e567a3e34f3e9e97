// Trusted publishing, for admins: OIDC issuers, and the trusted-publisher rules of each publisher.
import type { FastifyInstance } from 'fastify';
import type { IssuerKind } from '../../../core/oidc/rules.ts';
import { actorOf } from '../../../services/principal.ts';
import type { RuleInput } from '../../../services/trusted-publishing.ts';

export default async function adminOidcRoutes(app: FastifyInstance) {
  app.get('/oidc-issuers', { schema: app.openapi.routeSchema('listOidcIssuers'), preHandler: app.requireRole('admin', 'auditor') }, async () => ({
    items: await app.services.trustedPublishing.listIssuers(),
  }));

  app.post<{ Body: { url: string; kind: IssuerKind; maxTokenAge?: string; algorithms?: string[] } }>(
    '/oidc-issuers',
    { schema: app.openapi.routeSchema('addOidcIssuer'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      const issuer = await app.services.trustedPublishing.addIssuer(request.body, actorOf(request.principal!));
      reply.code(201).header('location', `/v1/admin/oidc-issuers/${issuer.id}`);
      return issuer;
    },
  );

  app.delete<{ Params: { id: string } }>('/oidc-issuers/:id', { schema: app.openapi.routeSchema('removeOidcIssuer'), preHandler: app.requireRole('admin') }, async (request, reply) => {
    await app.services.trustedPublishing.removeIssuer(request.params.id, actorOf(request.principal!));
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>(
    '/publishers/:id/trusted-publishers',
    { schema: app.openapi.routeSchema('listTrustedPublishers'), preHandler: app.requireRole('admin', 'auditor') },
    async (request) => ({ items: await app.services.trustedPublishing.listRules(request.params.id) }),
  );

  app.post<{ Params: { id: string }; Body: RuleInput }>(
    '/publishers/:id/trusted-publishers',
    { schema: app.openapi.routeSchema('addTrustedPublisher'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      const rule = await app.services.trustedPublishing.addRule(request.params.id, request.body, actorOf(request.principal!));
      reply.code(201).header('location', `/v1/admin/publishers/${rule.publisherId}/trusted-publishers/${rule.id}`);
      return rule;
    },
  );

  app.delete<{ Params: { id: string; ruleId: string } }>(
    '/publishers/:id/trusted-publishers/:ruleId',
    { schema: app.openapi.routeSchema('removeTrustedPublisher'), preHandler: app.requireRole('admin') },
    async (request, reply) => {
      await app.services.trustedPublishing.removeRule(request.params.id, request.params.ruleId, actorOf(request.principal!));
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string } }>('/signatures/:id', { schema: app.openapi.routeSchema('getSignatureIdentity'), preHandler: app.requireRole('admin', 'auditor') }, async (request, reply) => {
    const { record, identity } = await app.services.signatures.getWithIdentity(request.params.id);
    reply.header('cache-control', 'no-store');
    return { signature: record, signer: identity };
  });
}
