// The HTTP face of `modelsign witness`: C2SP tlog-witness, text in and text out (not the service's
// JSON API, so not in openapi.yaml: the spec is its contract). POST /add-checkpoint answers with
// the spec's status codes (services/witness-server.ts decides them); GET /<hex sha256(origin)>/checkpoint
// is the monitoring endpoint; GET /healthz says whether it serves, and which logs it still waits
// to read. Bodies over 64 KiB are refused unread (413; a log sends a checkpoint with its own
// signature lines, a few hundred bytes), and add-checkpoint requests are limited per client
// address (429 with Retry-After, the pushback omniwitness also sends).
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../services/support/clock.ts';
import { FixedWindows } from '../services/support/fixed-window.ts';
import type { WitnessService } from '../services/witness-server.ts';
import { addressBucket, fastifyTrustProxy } from './client-address.ts';

export const WITNESS_BODY_LIMIT = 64 * 1024;

export interface WitnessAppOptions {
  witness: WitnessService;
  clock: Clock;
  logger?: Logger | undefined;
  /** add-checkpoint requests a minute per client address; 0: none. */
  perMinute: number;
  trustProxy?: boolean | number | string[];
}

export async function buildWitnessApp(options: WitnessAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: WITNESS_BODY_LIMIT,
    trustProxy: fastifyTrustProxy(options.trustProxy),
    // The request lines are off (the witness logs what it decides); Fastify 5.12 takes this through a
    // LogController (the top-level disableRequestLogging option prints a deprecation warning).
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  const windows = options.perMinute > 0 ? new FixedWindows(60_000, 100_000, options.clock) : undefined;
  app.addHook('onClose', async () => windows?.close());
  // Whatever the content type: the body is the spec's text.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  const plain = (status: number, body: string, type = 'text/plain; charset=utf-8') => ({ status, body: body.endsWith('\n') ? body : `${body}\n`, type });
  app.setErrorHandler((err: { statusCode?: number; message: string }, _request, reply) => {
    // Fastify's own refusals (a body over the limit, a bad length): their status, in text.
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) app.log.error({ err }, 'witness request failed');
    const answer = plain(status, status === 413 ? `a request is at most ${WITNESS_BODY_LIMIT} bytes` : status === 500 ? 'internal error' : err.message);
    return reply.code(answer.status).type(answer.type).send(answer.body);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).type('text/plain; charset=utf-8').send('not found\n'));

  app.post('/add-checkpoint', async (request, reply) => {
    if (windows) {
      const { count, retryAfterSeconds } = windows.hit(addressBucket(request.ip));
      if (count > options.perMinute) return reply.code(429).header('retry-after', String(retryAfterSeconds)).type('text/plain; charset=utf-8').send('too many requests\n');
    }
    const answer = await options.witness.addCheckpoint(typeof request.body === 'string' ? request.body : '');
    return reply.code(answer.status).type(answer.contentType).send(answer.body);
  });

  app.get('/:hash/checkpoint', async (request, reply) => {
    const hash = String((request.params as Record<string, unknown>)['hash']);
    const note = /^[0-9a-f]{64}$/.test(hash) ? await options.witness.monitored(hash) : undefined;
    if (note === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('this witness holds no checkpoint of that log\n');
    return reply.header('cache-control', 'no-cache').type('text/plain; charset=utf-8').send(note);
  });

  app.get('/healthz', async () => ({ status: 'ok', vkey: options.witness.vkey, waiting: options.witness.waiting }));
  return app;
}
