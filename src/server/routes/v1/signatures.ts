// Signing releases (publishers) and reading signatures (everyone).
import { ModelsignError } from '../../../core/errors.ts';
import type { FastifyInstance } from 'fastify';
import { signatureSummaryView, signatureView } from '../../../api/signatures.ts';
import type { RouteOf } from '../../../api/wire.ts';
import type { SignatureRecord } from '../../../core/signature-record.ts';
import { problem } from '../../problem.ts';

// A complete record never changes, so its JSON is made once per cached record (the records are
// the signature service's cached objects, so identity says "same record").
const serialized = new WeakMap<SignatureRecord, string>();

export default async function signatureRoutes(app: FastifyInstance) {
  app.post<RouteOf<'signRelease'>>(
    '/signatures',
    { schema: app.openapi.routeSchema('signRelease'), bodyLimit: 4 * 1024 * 1024, preHandler: app.requireRole('publisher') },
    async (request, reply) => {
      const { created: isNew, record } = await app.services.signing.sign(request.principal!, request.body);
      reply.code(isNew ? 201 : 200);
      if (isNew) {
        reply.header('location', `/v1/signatures/${record.id}`);
        app.metrics.signatureIssued();
      }
      return signatureView(record);
    },
  );

  app.post<RouteOf<'signReleases'>>(
    '/signatures/batch',
    { schema: app.openapi.routeSchema('signReleases'), bodyLimit: 16 * 1024 * 1024, preHandler: app.requireRole('publisher') },
    async (request) => {
      const outcomes = await app.services.signing.signBatch(request.principal!, request.body.items);
      return {
        results: outcomes.map((o) => {
          if ('error' in o) {
            const answer = problem(o.error.code, o.error.message, o.error.errors ? { errors: o.error.errors } : {});
            return { status: answer.status, problem: answer };
          }
          if (o.created) app.metrics.signatureIssued();
          return { status: o.created ? 201 : 200, signature: signatureView(o.record) };
        }),
      };
    },
  );

  app.get<RouteOf<'listSignatures', 'limit'>>('/signatures', { schema: app.openapi.routeSchema('listSignatures') }, async (request) => {
    const page = await app.services.signatures.list(request.query);
    return { items: page.items.map(signatureSummaryView), nextCursor: page.nextCursor };
  });

  app.get<RouteOf<'getSignatureProof'>>('/signatures/:id/tlog-proof', { schema: app.openapi.routeSchema('getSignatureProof') }, async (request, reply) => {
    const record = await app.services.signatures.get(request.params.id);
    const witnesses = app.services.witnesses;
    const proof = witnesses && record.logIndex !== null ? await witnesses.log.proofFor(record.logIndex) : undefined;
    if (proof === undefined) {
      reply.header('retry-after', '5').header('cache-control', 'no-store');
      throw new ModelsignError('proof_not_ready', witnesses ? `no checkpoint meeting the witness quorum covers signature ${record.id} yet` : 'this service has no witnesses configured (MODELSIGN_WITNESS_POLICY), so there is no witness proof');
    }
    return reply.header('cache-control', 'no-cache').type('text/plain; charset=utf-8').send(proof);
  });

  app.get<RouteOf<'getSignature'>>('/signatures/:id', { schema: app.openapi.routeSchema('getSignature') }, async (request, reply) => {
    const record = await app.services.signatures.get(request.params.id);
    // A signature never changes once its log entry is in the bundle; until then it may. A witnessed
    // log's release is final once its witness proof exists too (clients then fetch both once).
    const witnesses = app.services.witnesses;
    const complete = record.bundle.verificationMaterial.tlogEntries.length > 0 && (!witnesses || (record.logIndex !== null && (await witnesses.log.covers(record.logIndex))));
    reply.header('cache-control', complete ? 'public, max-age=3600, immutable' : 'no-cache');
    if (!complete) return signatureView(record);
    let json = serialized.get(record);
    if (json === undefined) {
      json = JSON.stringify(signatureView(record));
      serialized.set(record, json);
    }
    return reply.type('application/json; charset=utf-8').send(json);
  });
}
