// The one error handler: every failure leaves as application/problem+json with a stable code.
// Input problems are 4xx; a database that cannot serve (unavailable, read-only, busy) is 503
// with Retry-After; anything else is a logged 500 that says nothing about internals.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ModelsignError, type ErrorCode, type ErrorDetail } from '../../core/errors.ts';
import { offendingCharacter } from '../../core/release-name.ts';
import { errorSummary } from '../../services/database-status.ts';
import { failureKind, type DatabaseFailure } from '../../services/support/failures.ts';
import { problem, PROBLEM_CONTENT_TYPE } from '../problem.ts';

// Fastify's own client errors, by code.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_BAD_URL: 'validation_failed',
  FST_ERR_ASYNC_CONSTRAINT: 'validation_failed',
};

function toProblemCode(err: FastifyError): { code: ErrorCode; detail: string; errors?: ErrorDetail[] } | undefined {
  if (err instanceof ModelsignError) return { code: err.code, detail: err.message, ...(err.errors ? { errors: err.errors } : {}) };
  if (err.validation) {
    const where = err.validationContext ?? 'body';
    const errors = err.validation.map((v) => ({
      path: `${where}${v.instancePath || ''}`,
      message: `${v.message ?? 'is invalid'}${v.keyword === 'pattern' ? offendingCharacter((v as { data?: unknown }).data) : ''}`,
      ...(v.keyword === 'additionalProperties' ? { property: (v.params as { additionalProperty?: string }).additionalProperty } : {}),
    }));
    const first = errors[0]!;
    const property = 'property' in first ? ` (${String(first.property)})` : '';
    return { code: 'validation_failed', detail: `${first.path} ${first.message}${property}`, errors };
  }
  const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (mapped) return { code: mapped, detail: mapped === 'invalid_json' ? 'the body is not valid JSON' : err.message };
  if (err instanceof SyntaxError && err.statusCode === 400) return { code: 'invalid_json', detail: 'the body is not valid JSON' };
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return { code: err.statusCode === 404 ? 'route_not_found' : 'validation_failed', detail: err.message };
  }
  return undefined;
}

const DATABASE_PROBLEMS: Record<DatabaseFailure, [ErrorCode, string]> = {
  unavailable: ['unavailable', 'the database is unavailable (unreachable, restarting, in recovery or out of connections); try again shortly'],
  read_only: ['database_read_only', 'the database accepts only reads for now (a standby or read-only mode): lookups and verification work, this change does not; try again shortly'],
  busy: ['database_busy', 'the database did not answer in time; try again shortly'],
};

export function sendProblem(request: FastifyRequest, reply: FastifyReply, code: ErrorCode, detail: string, errors?: ErrorDetail[]): FastifyReply {
  const body = problem(code, detail, { instance: request.url.split('?')[0]!, requestId: String(request.id), ...(errors ? { errors } : {}) });
  if (body.status === 401) reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${code}"`);
  if (body.status === 503) reply.header('retry-after', '1');
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

export default fp(
  async function errorsPlugin(app) {
    app.setErrorHandler(function handleError(err: FastifyError, request, reply) {
      const known = toProblemCode(err);
      if (known) {
        // key_backend_unavailable is the token's outage, logged once when it starts (pkcs11/).
        if (known.code === 'key_unavailable' || known.code === 'kek_mismatch') request.log.error({ err }, 'keys unavailable');
        return sendProblem(request, reply, known.code, known.detail, known.errors);
      }
      const kind = failureKind(err);
      if (kind === 'invalid_text') {
        request.log.warn({ err }, 'the database refused a value as text');
        return sendProblem(request, reply, 'validation_failed', 'a field holds characters that cannot be stored (such as NUL)');
      }
      if (kind) {
        // The outage gets one warning (services/database-status.ts); each request only a debug line.
        app.services.database.failed(kind, err);
        request.log.debug({ err: errorSummary(err) }, 'the database could not serve this request');
        const [code, detail] = DATABASE_PROBLEMS[kind];
        return sendProblem(request, reply, code, detail);
      }
      request.log.error({ err }, 'unhandled error');
      return sendProblem(request, reply, 'internal_error', `an unexpected error occurred; quote request id ${request.id} when reporting it`);
    });

    app.setNotFoundHandler(function notFound(request, reply) {
      return sendProblem(request, reply, 'route_not_found', `no route ${request.method} ${request.url.split('?')[0]}; see /openapi.yaml`);
    });
  },
  { name: 'modelsign-errors' },
);
