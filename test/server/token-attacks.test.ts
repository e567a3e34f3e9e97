// Every known way of presenting a token this service did not issue, or may
// no longer honour, is refused with 401 problem+json and recorded in the audit trail (code,
// route and address; never the token). Each attack targets the signing route or an admin route
// and must leave nothing signed or changed.
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomUUID, sign as edSign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { spkiPem } from '../../src/core/crypto/public-key.ts';
import { TOKEN_ISSUER } from '../../src/core/tokens.ts';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
const now = () => Math.floor(Date.now() / 1000);

describe('token attacks', () => {
  let t: TestApp;
  let admin: string;
  let publisher: string;
  let tokenKid: string;
  /** Signs a JWT with one of the service's own keys, as a thief of that key (or a bug) would. */
  let forge: (purpose: 'token' | 'release' | 'log', header: Record<string, unknown>, claims: Record<string, unknown>) => Promise<string>;

  before(async () => {
    t = await createTestApp();
    admin = await t.adminToken();
    publisher = await t.publisherToken('acme', ['acme']);
    await t.services.publishers.create({ name: 'victim', namespaces: ['victim'] }, 'test');
    tokenKid = t.services.keys.signer('token').kid;
    forge = async (purpose, header, claims) => {
      const signer = t.services.keys.signer(purpose);
      const input = `${b64url({ alg: 'EdDSA', typ: 'JWT', kid: signer.kid, ...header })}.${b64url(claims)}`;
      return `${input}.${Buffer.from(await signer.sign(new TextEncoder().encode(input))).toString('base64url')}`;
    };
  });
  after(() => t.close());

  const body = (version: string, model = 'acme/tiny') => ({ model, version, files: [{ path: 'a.bin', sha256: sha('a'), size: 1 }] });

  async function refusals(): Promise<Array<{ code: string; target: string; details: string }>> {
    return t.services.db.query(`SELECT "target", "details"::text AS "details", "details"->>'code' AS "code" FROM "audit_events" WHERE "action" = 'auth.refused' ORDER BY "id"`);
  }

  async function expectRefused(token: string, code: string, route: 'sign' | 'admin' = 'sign') {
    const before = await refusals();
    const signaturesBefore = await t.services.db.prisma.releaseSignature.count();
    const res =
      route === 'sign'
        ? await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: body(`attack-${randomUUID()}`) })
        : await t.app.inject({ method: 'POST', url: '/v1/admin/tokens', headers: bearer(token), payload: { role: 'admin', subject: 'mallory', ttl: '1h' } });
    assert.equal(res.statusCode, 401, res.body);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.json().code, code);
    assert.match(String(res.headers['www-authenticate']), /^Bearer error="invalid_token"/);
    const afterRows = await refusals();
    assert.equal(afterRows.length, before.length + 1, 'one audit event for the refusal');
    const event = afterRows.at(-1)!;
    assert.equal(event.code, code);
    assert.equal(event.target, route === 'sign' ? 'route:POST /v1/signatures' : 'route:POST /v1/admin/tokens');
    for (const part of token.split('.').filter((p) => p.length >= 16)) assert.ok(!event.details.includes(part.slice(0, 16)), 'the audit event does not hold the token');
    assert.equal(await t.services.db.prisma.releaseSignature.count(), signaturesBefore, 'nothing was signed');
  }

  it('the real tokens work (the attacks below differ from them in one thing each)', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(publisher), payload: body('1.0') });
    assert.equal(res.statusCode, 201, res.body);
    const forged = await forge('token', {}, claimsOf(publisher));
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(forged), payload: body('1.1') })).statusCode, 201, 'a re-signed copy of the real claims is accepted');
  });

  it('alg: none', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT', kid: tokenKid })}.${b64url(claimsOf(publisher))}.`;
    await expectRefused(token, 'token_malformed');
    await expectRefused(`${b64url({ alg: 'none', typ: 'JWT', kid: tokenKid })}.${b64url(claimsOf(admin))}.AAAA`, 'token_malformed', 'admin');
  });

  it('HS256 signed with the public key as the HMAC secret', async () => {
    const pem = spkiPem(t.services.keys.get(tokenKid)!);
    for (const secret of [pem, pem.trim(), Buffer.from(t.services.keys.get(tokenKid)!.publicKey)]) {
      const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: tokenKid })}.${b64url(claimsOf(admin))}`;
      const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      await expectRefused(token, 'token_malformed', 'admin');
    }
  });

  it('a valid signature from a key the service does not know', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const strangerKid = publicKey.export({ format: 'der', type: 'spki' }).toString('hex').slice(-64);
    for (const kid of [strangerKid, tokenKid]) {
      const input = `${b64url({ alg: 'EdDSA', typ: 'JWT', kid })}.${b64url(claimsOf(admin))}`;
      const token = `${input}.${edSign(null, Buffer.from(input), privateKey).toString('base64url')}`;
      await expectRefused(token, 'token_invalid', 'admin');
    }
  });

  it('a kid naming a release or log key (even correctly signed by that key)', async () => {
    await expectRefused(await forge('release', {}, claimsOf(admin)), 'token_invalid', 'admin');
    await expectRefused(await forge('log', {}, claimsOf(publisher)), 'token_invalid');
  });

  it('expired', async () => {
    await expectRefused(await forge('token', {}, { ...claimsOf(publisher), iat: now() - 7200, exp: now() - 60 }), 'token_expired');
  });

  it('nbf in the future', async () => {
    await expectRefused(await forge('token', {}, { ...claimsOf(publisher), nbf: now() + 3600 }), 'token_invalid');
  });

  it('wrong iss (and none)', async () => {
    assert.notEqual(TOKEN_ISSUER, 'https://evil.example');
    await expectRefused(await forge('token', {}, { ...claimsOf(admin), iss: 'https://evil.example' }), 'token_invalid', 'admin');
    const { iss: _iss, ...noIssuer } = claimsOf(admin);
    await expectRefused(await forge('token', {}, noIssuer), 'token_invalid', 'admin');
  });

  it('a jti the service never issued, with otherwise perfect claims', async () => {
    await expectRefused(await forge('token', {}, { ...claimsOf(admin), jti: randomUUID() }), 'token_invalid', 'admin');
  });

  it('revoked jti', async () => {
    const token = (await t.services.tokens.issueFor({ role: 'publisher', publisher: 'acme', ttlMs: 3_600_000 }, 'test')).token;
    const jti = String(claimsOf(token).jti);
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/admin/tokens/${jti}`, headers: bearer(admin) });
    assert.ok(res.statusCode < 300, res.body);
    await expectRefused(token, 'token_revoked');
  });

  it('a publisher token with a widened ns claim: edited (signature breaks) or re-signed (claim exceeds the publisher)', async () => {
    const [h, , s] = publisher.split('.');
    const widened = { ...claimsOf(publisher), ns: ['acme', 'victim'] };
    await expectRefused(`${h}.${b64url(widened)}.${s}`, 'token_invalid');
    const resigned = await forge('token', {}, widened);
    await expectRefused(resigned, 'token_invalid');
    // Not even in the namespace it does own: the whole token is bad.
    const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(resigned), payload: body('9.9', 'victim/model') });
    assert.equal(res.statusCode, 401);
  });

  it('a token of a disabled publisher', async () => {
    const token = await t.publisherToken('acme');
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: body('2.0') })).statusCode, 201);
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(admin), payload: { disabled: true } });
    assert.equal(res.statusCode, 200, res.body);
    await expectRefused(token, 'publisher_disabled');
    await t.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(admin), payload: { disabled: false } });
  });

  it('the refusals are sealed into the audit chain and readable by an auditor', async () => {
    const auditor = (await t.services.tokens.issueFor({ role: 'auditor', subject: 'auditor', ttlMs: 3_600_000 }, 'test')).token;
    const res = await t.app.inject({ url: '/v1/admin/audit?action=auth.refused&limit=100', headers: bearer(auditor) });
    assert.equal(res.statusCode, 200, res.body);
    const codes = (res.json().items as Array<{ details: { code: string } }>).map((e) => e.details.code);
    for (const code of ['token_malformed', 'token_invalid', 'token_expired', 'token_revoked', 'publisher_disabled']) assert.ok(codes.includes(code), code);
    assert.ok(codes.length >= 17, `${codes.length} refusals sealed`);
  });
});
