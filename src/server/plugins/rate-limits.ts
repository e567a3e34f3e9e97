// Per-client limits: public routes count requests per client address (an IPv6 /64:
// client-address.ts), publisher and admin routes
// per token (so one pipeline cannot starve another behind the same NAT). With REDIS_URL the
// counters live in Redis (@fastify/rate-limit's store) and hold across instances; without it each
// instance counts alone, in memory. Routes with `config: { rateLimit: false }` are not counted.
import { hash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { ModelsignError } from '../../core/errors.ts';
import { addressBucket } from '../client-address.ts';
import { FixedWindows } from '../../services/support/fixed-window.ts';

export interface RateLimitOptions {
  /** Requests per minute per client address on public routes; 0 = no limit. */
  publicPerMinute: number;
  /** Requests per minute per token on authenticated routes; 0 = no limit. */
  tokenPerMinute: number;
  redisUrl?: string | undefined;
}

const WINDOW_MS = 60_000;
const MAX_BUCKETS = 1_000_000;

/** The bucket a request counts against. Tokens are hashed: Redis must never hold a bearer token. */
function bucketOf(request: FastifyRequest): string {
  const authenticated = request.routeOptions.config?.authenticated === true;
  const header = request.headers.authorization;
  if (authenticated && typeof header === 'string' && header !== '') {
    return `t:${hash('sha256', header, 'base64url').slice(0, 32)}`;
  }
  return `ip:${addressBucket(request.ip)}`;
}

export default fp<RateLimitOptions>(
  async function rateLimitPlugin(app, options) {
    let redis: Redis | undefined;
    if (options.redisUrl) {
      // Short timeouts and no offline queue: when Redis is away a request must not wait for it
      // (skipOnError lets it through; availability of signing beats exactness of a counter).
      redis = new Redis(options.redisUrl, { connectTimeout: 500, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
      // A duration between log lines, never compared with a stored or signed time: the
      // monotonic clock, which no clock step can stall or flood.
      let lastWarning = Number.NEGATIVE_INFINITY;
      redis.on('error', (err) => {
        if (performance.now() - lastWarning < 10_000) return;
        lastWarning = performance.now();
        app.log.warn({ err: { message: err.message } }, 'the rate-limit store (Redis) is failing; requests are not being counted');
      });
      app.addHook('onClose', async () => {
        await redis!.quit().catch(() => redis!.disconnect());
      });
      // Connected before the first request (commands are not queued while connecting); if Redis
      // is down now, ioredis keeps reconnecting in the background and the warning above says so.
      await redis.connect().catch(() => undefined);
    }
    const limitOf = (bucket: string) => (bucket.startsWith('t:') ? options.tokenPerMinute : options.publicPerMinute);
    const refusal = (request: FastifyRequest, max: number, seconds: number) =>
      new ModelsignError('rate_limited', `more than ${max} requests a minute from this ${bucketOf(request).startsWith('t:') ? 'token' : 'address'}; retry in ${seconds} s`);

    if (!redis) {
      // One instance counting alone: a fixed one-minute window per bucket, in a synchronous
      // hook. @fastify/rate-limit's route hook (async, a promise per store call) measured ~10 µs
      // of CPU per request, a quarter of a cached read; this costs a map lookup. Redis, shared
      // by instances, goes through the library below, where the network round trip dominates.
      const windows = new FixedWindows(WINDOW_MS, MAX_BUCKETS, app.services.clock);
      app.addHook('onClose', async () => windows.close());
      app.addHook('onRequest', (request, reply, done) => {
        if (request.routeOptions.config?.rateLimit === false) return done();
        const bucket = bucketOf(request);
        const max = limitOf(bucket);
        if (max === 0) return done();
        const { count, retryAfterSeconds: seconds } = windows.hit(bucket);
        if (count <= max) return done();
        reply.headers({ 'retry-after': seconds, 'x-ratelimit-limit': max, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': seconds });
        done(refusal(request, max, seconds));
      });
      return;
    }

    await app.register(rateLimit, {
      global: true,
      timeWindow: WINDOW_MS,
      keyGenerator: bucketOf,
      max: (_request, key) => limitOf(key),
      // Without a zero limit there is nothing to allow: no allowList call on every request.
      ...(options.publicPerMinute === 0 || options.tokenPerMinute === 0 ? { allowList: (_request: unknown, key: string) => limitOf(key) === 0 } : {}),
      redis,
      nameSpace: 'modelsign-rl:',
      skipOnError: true,
      // The counters only on a refusal: three headers on every answer cost more than they tell.
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
      errorResponseBuilder: (request, context) => refusal(request, context.max, Math.max(1, Math.ceil(context.ttl / 1000))),
    });
  },
  { name: 'modelsign-rate-limits', dependencies: ['modelsign-errors', 'modelsign-auth'] },
);
