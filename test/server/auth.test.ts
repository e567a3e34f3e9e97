// Missing, malformed, expired, revoked or wrongly signed tokens are 401; a foreign
// namespace is 403; publisher tokens on admin routes are 403.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { toBase64Url, utf8 } from '../../src/core/bytes.ts';
import { bearer, createTestApp, MutableClock, sha, type TestApp } from '../support/app.ts';

const body = { model: 'acme/tiny', version: '1.0', files: [{ path: 'a', sha256: sha('a'), size: 1 }] };

function forge(header: object, claims: object, key = generateKeyPairSync('ed25519').privateKey): string {
  const input = `${toBase64Url(utf8(JSON.stringify(header)))}.${toBase64Url(utf8(JSON.stringify(claims)))}`;
  return `${input}.${toBase64Url(new Uint8Array(nodeSign(null, Buffer.from(input), key)))}`;
}

describe('authentication and authorisation', () => {
  let t: TestApp;
  let publisher: string;
  let admin: string;
  const clock = new MutableClock();
  before(async () => {
    clock.set(new Date());
    t = await createTestApp({ clock });
    publisher = await t.publisherToken('acme');
    admin = await t.adminToken();
  });
  after(() => t.close());

  const signWith = (headers: Record<string, string>) => t.app.inject({ method: 'POST', url: '/v1/signatures', headers, payload: body });
  const expect401 = async (headers: Record<string, string>, code: string) => {
    const res = await signWith(headers);
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(res.json().code, code);
    assert.match(res.headers['www-authenticate'] as string, /^Bearer /);
  };

  it('401 token_missing without a token', () => expect401({}, 'token_missing'));

  it('401 token_malformed for malformed headers and tokens', async () => {
    await expect401({ authorization: 'Basic dXNlcjpwYXNz' }, 'token_malformed');
    await expect401({ authorization: 'Bearer' }, 'token_malformed');
    await expect401({ authorization: 'Bearer not-a-jwt' }, 'token_malformed');
    await expect401({ authorization: 'Bearer a.b.c' }, 'token_malformed');
    await expect401({ authorization: `Bearer ${publisher}x.y` }, 'token_malformed');
    const [, payload, sig] = publisher.split('.');
    await expect401(bearer(`${toBase64Url(utf8('{"alg":"HS256","kid":"x"}'))}.${payload}.${sig}`), 'token_malformed');
    await expect401(bearer(`${toBase64Url(utf8('{"alg":"none"}'))}.${payload}.`), 'token_malformed');
  });

  it('401 token_invalid for a token signed with another key, by a non-token key, or altered', async () => {
    const real = JSON.parse(Buffer.from(publisher.split('.')[1]!, 'base64url').toString());
    const tokenKid = t.services.keys.signer('token').kid;
    await expect401(bearer(forge({ alg: 'EdDSA', typ: 'JWT', kid: tokenKid }, real)), 'token_invalid');
    await expect401(bearer(forge({ alg: 'EdDSA', typ: 'JWT', kid: t.services.keys.signer('release').kid }, real)), 'token_invalid');
    const [h, , s] = publisher.split('.');
    const altered = toBase64Url(utf8(JSON.stringify({ ...real, role: 'admin' })));
    await expect401(bearer(`${h}.${altered}.${s}`), 'token_invalid');
    // A token signed with the real token key whose jti was never issued.
    const stranger = (await t.services.tokens.issueFor({ role: 'publisher', publisher: 'acme', ttlMs: 60_000 }, 'test')).token;
    await t.services.db.prisma.token.deleteMany({ where: { jti: JSON.parse(Buffer.from(stranger.split('.')[1]!, 'base64url').toString()).jti } });
    t.services.tokens.invalidate();
    await expect401(bearer(stranger), 'token_invalid');
  });

  it('401 token_expired for an expired token', async () => {
    const saved = clock.now();
    clock.advance(-3_600_000);
    const old = (await t.services.tokens.issueFor({ role: 'publisher', publisher: 'acme', ttlMs: 60_000 }, 'test')).token;
    clock.set(saved);
    await expect401(bearer(old), 'token_expired');
  });

  it('401 token_revoked once a token is revoked, from the next request on', async () => {
    const token = await t.publisherToken('acme');
    assert.equal((await signWith(bearer(token))).statusCode, 201);
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti;
    const revoked = await t.app.inject({ method: 'DELETE', url: `/v1/admin/tokens/${jti}`, headers: bearer(admin) });
    assert.equal(revoked.statusCode, 204);
    await expect401(bearer(token), 'token_revoked');
    const unknown = await t.app.inject({ method: 'DELETE', url: '/v1/admin/tokens/00000000-0000-4000-8000-000000000000', headers: bearer(admin) });
    assert.equal(unknown.statusCode, 404);
  });

  it('403 forbidden_namespace outside the publisher\'s namespaces', async () => {
    const res = await signWith({ ...bearer(publisher) });
    assert.ok([200, 201].includes(res.statusCode));
    const other = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(publisher), payload: { ...body, model: 'evil/tiny' } });
    assert.equal(other.statusCode, 403);
    assert.equal(other.json().code, 'forbidden_namespace');
  });

  it('403 forbidden_role for publisher tokens on admin routes and admin tokens on signing', async () => {
    for (const [method, url, payload] of [
      ['GET', '/v1/admin/publishers', undefined],
      ['POST', '/v1/admin/publishers', { name: 'x', namespaces: ['x'] }],
      ['POST', '/v1/admin/tokens', { role: 'admin', subject: 'me', ttl: '1d' }],
      ['DELETE', '/v1/admin/tokens/00000000-0000-4000-8000-000000000000', undefined],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: bearer(publisher), ...(payload ? { payload } : {}) });
      assert.equal(res.statusCode, 403, `${method} ${url}`);
      assert.equal(res.json().code, 'forbidden_role');
    }
    const res = await signWith(bearer(admin));
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 'forbidden_role');
  });
});
