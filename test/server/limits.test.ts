// Body limits (413), per-address limits on public routes and per-token
// limits on authenticated ones (429 with Retry-After), a budget shared through Redis by two
// instances; and the response hardening around them: security headers, the CORS policy,
// request timeouts.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { isCorsOpen } from '../../src/server/plugins/security.ts';
import { bearer, createTestApp, listenTestApp, sha, testKek, type TestApp } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';

const randomIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

function assertRateLimited(res: { statusCode: number; headers: Record<string, unknown>; json(): { code: string; detail: string } }, what: RegExp) {
  assert.equal(res.statusCode, 429);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(res.json().code, 'rate_limited');
  assert.match(res.json().detail, what);
  const retry = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${String(res.headers['retry-after'])}`);
  assert.equal(res.headers['x-ratelimit-remaining'], '0');
}

describe('limits', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ rateLimit: { publicPerMinute: 5, tokenPerMinute: 3 } });
  });
  after(() => t.close());

  it('a body over the route limit is 413 problem+json, on every route that takes a body', async () => {
    const admin = await t.adminToken();
    const publisher = await t.publisherToken('acme');
    const cases = [
      { url: '/v1/signatures', token: publisher, size: 4 * 1024 * 1024 + 1 },
      { url: '/v1/verify', token: undefined, size: 8 * 1024 * 1024 + 1 },
      { url: '/v1/admin/publishers', token: admin, size: 1024 * 1024 + 1 },
    ];
    for (const c of cases) {
      const res = await t.app.inject({
        method: 'POST',
        url: c.url,
        remoteAddress: randomIp(),
        headers: { 'content-type': 'application/json', ...(c.token ? bearer(c.token) : {}) },
        payload: JSON.stringify({ pad: 'x'.repeat(c.size) }),
      });
      assert.equal(res.statusCode, 413, `${c.url}: ${res.body.slice(0, 200)}`);
      assert.equal(res.json().code, 'payload_too_large');
    }
  });

  it('public routes: per client address, 429 with Retry-After past the limit; probes and other addresses unaffected', async () => {
    const ip = randomIp();
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({ url: '/v1/keys', remoteAddress: ip });
      assert.equal(res.statusCode, 200);
    }
    assertRateLimited(await t.app.inject({ url: '/v1/log/checkpoint', remoteAddress: ip }), /address/);
    // A bearer header on a public route does not buy a separate budget.
    assertRateLimited(await t.app.inject({ url: '/v1/keys', remoteAddress: ip, headers: bearer('a.b.c') }), /address/);
    assert.equal((await t.app.inject({ url: '/v1/keys', remoteAddress: randomIp() })).statusCode, 200);
    for (const url of ['/healthz', '/readyz', '/metrics']) assert.equal((await t.app.inject({ url, remoteAddress: ip })).statusCode, 200, url);
  });

  it('publisher and admin routes: per token, whatever the address; another token has its own budget', async () => {
    const first = await t.publisherToken('acme');
    const second = await t.publisherToken('acme');
    const sign = (token: string, version: string) =>
      t.app.inject({ method: 'POST', url: '/v1/signatures', remoteAddress: randomIp(), headers: bearer(token), payload: { model: 'acme/m', version, files: [{ path: 'a', sha256: sha('a'), size: 1 }] } });
    for (let i = 0; i < 3; i++) assert.equal((await sign(first, `1.${i}`)).statusCode, 201);
    const limited = await sign(first, '1.9');
    assertRateLimited(limited, /token/);
    assert.equal(await t.services.db.prisma.releaseSignature.count({ where: { version: '1.9' } }), 0, 'the limited request signed nothing');
    assert.equal((await sign(second, '2.0')).statusCode, 201);

    const admin = await t.adminToken();
    for (let i = 0; i < 3; i++) assert.equal((await t.app.inject({ url: '/v1/admin/publishers', headers: bearer(admin), remoteAddress: randomIp() })).statusCode, 200);
    assertRateLimited(await t.app.inject({ url: '/v1/admin/publishers', headers: bearer(admin), remoteAddress: randomIp() }), /token/);
  });

  it('security headers on every response', async () => {
    for (const url of ['/v1/keys', '/docs', '/nope']) {
      const res = await t.app.inject({ url, remoteAddress: randomIp() });
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
      assert.equal(res.headers['referrer-policy'], 'no-referrer', url);
      assert.match(String(res.headers['content-security-policy']), /default-src 'none'.*frame-ancestors 'none'/, url);
      assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/, url);
      assert.equal(res.headers['x-powered-by'], undefined, url);
    }
  });

  it('CORS: public GETs and POST /v1/verify are open to any origin, without credentials; nothing else is', async () => {
    const origin = 'https://hub.example';
    let open = 0;
    for (const op of t.app.openapi.operations) {
      const path = op.path.replace(/\{[^}]+\}/g, 'x');
      const method = op.method.toUpperCase();
      const authenticated = Array.isArray(op.operation.security) && op.operation.security.length > 0;
      const expected = !authenticated && !['/healthz', '/readyz', '/metrics', '/docs', '/', '/admin', '/assets/{name}'].includes(op.path) && (method === 'GET' || op.operationId === 'verifyBundle');
      assert.equal(isCorsOpen(method, path), expected, `${method} ${op.path}`);
      const preflight = await t.app.inject({ method: 'OPTIONS', url: path, remoteAddress: randomIp(), headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' } });
      if (expected) {
        open++;
        assert.equal(preflight.statusCode, 204, `${method} ${op.path}`);
        assert.equal(preflight.headers['access-control-allow-origin'], '*');
        assert.match(String(preflight.headers['access-control-allow-methods']), new RegExp(method));
        assert.equal(preflight.headers['access-control-allow-credentials'], undefined);
      } else {
        assert.equal(preflight.headers['access-control-allow-origin'], undefined, `${method} ${op.path} must not be open`);
        assert.equal(preflight.statusCode, 404);
        assert.match(String(preflight.headers['content-type']), /problem\+json/);
      }
    }
    assert.ok(open >= 10, `${open} operations open`);
    const get = await t.app.inject({ url: '/v1/keys', remoteAddress: randomIp(), headers: { origin } });
    assert.equal(get.headers['access-control-allow-origin'], '*');
    assert.match(String(get.headers['access-control-expose-headers']), /retry-after/);
    const admin = await t.app.inject({ url: '/v1/admin/publishers', remoteAddress: randomIp(), headers: { origin } });
    assert.equal(admin.headers['access-control-allow-origin'], undefined);
  });
});

describe('limits shared through Redis', () => {
  const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  let reachable = false;
  before(async () => {
    const probe = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    probe.on('error', () => undefined);
    reachable = await probe.connect().then(() => probe.ping().then(() => true), () => false);
    probe.disconnect();
    if (!reachable && process.env.MODELSIGN_TEST_REQUIRE_REDIS === '1') throw new Error(`Redis is required (MODELSIGN_TEST_REQUIRE_REDIS=1) but ${url} is unreachable`);
  });

  it('two instances share one budget per address and per token', async (ctx) => {
    if (!reachable) return ctx.skip(`Redis unreachable at ${url} (set TEST_REDIS_URL; CI requires it)`);
    const database = await createTestDatabase();
    const kek = testKek();
    const a = await createTestApp({ database, kek, rateLimit: { publicPerMinute: 4, tokenPerMinute: 4, redisUrl: url } });
    const b = await createTestApp({ database, kek, rateLimit: { publicPerMinute: 4, tokenPerMinute: 4, redisUrl: url } });
    try {
      const ip = randomIp();
      assert.equal((await a.app.inject({ url: '/v1/keys', remoteAddress: ip })).statusCode, 200);
      assert.equal((await b.app.inject({ url: '/v1/keys', remoteAddress: ip })).statusCode, 200);
      assert.equal((await a.app.inject({ url: '/v1/keys', remoteAddress: ip })).statusCode, 200);
      assert.equal((await b.app.inject({ url: '/v1/keys', remoteAddress: ip })).statusCode, 200);
      assertRateLimited(await a.app.inject({ url: '/v1/keys', remoteAddress: ip }), /address/);
      assertRateLimited(await b.app.inject({ url: '/v1/keys', remoteAddress: ip }), /address/);

      const admin = await a.adminToken();
      for (const app of [a, b, a, b]) assert.equal((await app.app.inject({ url: '/v1/admin/publishers', headers: bearer(admin), remoteAddress: randomIp() })).statusCode, 200);
      assertRateLimited(await b.app.inject({ url: '/v1/admin/publishers', headers: bearer(admin), remoteAddress: randomIp() }), /token/);

      // Redis holds a hash of the token, never the token.
      const redis = new Redis(url);
      const keys = await redis.keys('modelsign-rl:*');
      redis.disconnect();
      assert.ok(keys.length >= 2);
      for (const k of keys) assert.ok(!k.includes(admin.split('.')[2]!.slice(0, 12)), k);
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });

  it('when Redis is unreachable, requests are let through (and the service stays up)', async () => {
    const t = await createTestApp({ rateLimit: { publicPerMinute: 2, tokenPerMinute: 2, redisUrl: 'redis://127.0.0.1:1' } });
    try {
      for (let i = 0; i < 4; i++) assert.equal((await t.app.inject({ url: '/v1/keys' })).statusCode, 200);
      for (let i = 0; i < 50 && !t.logs.some((l) => l.includes('rate-limit store')); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(t.logs.some((l) => l.includes('rate-limit store')), 'a warning is logged');
    } finally {
      await t.close();
    }
  });
});

describe('request timeout', () => {
  it('a client that sends half a request is cut off after the request timeout', async () => {
    const t = await createTestApp({ requestTimeoutMs: 1000 });
    try {
      const base = new URL(await listenTestApp(t));
      const started = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(base.port), base.hostname, () => socket.write('POST /v1/verify HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"bun'));
        let text = '';
        socket.on('data', (d) => (text += d));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        setTimeout(() => reject(new Error('still open after 10 s')), 10_000).unref();
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 900 && elapsed < 5_000, `closed after ${elapsed} ms`);
      assert.match(answer, /^HTTP\/1\.1 408/);
      assert.match(answer, /application\/problem\+json/);
      assert.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).code, 'request_timeout');
    } finally {
      await t.close();
    }
  });
});
