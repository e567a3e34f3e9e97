// Admin token → publisher acme → publisher token → sign acme/tiny@1.0 → public
// lookup → verify, over real HTTP, on the database under test.
// Key backends: kek, pkcs11
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, sha, type TestApp } from '../support/app.ts';

describe('the signing flow over HTTP', () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    t = await createTestApp();
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => t.close());

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(base + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
  };

  it('signs a release and lets anyone find and verify it', async () => {
    const admin = await t.adminToken();

    const publisher = await call('POST', '/v1/admin/publishers', { name: 'acme', namespaces: ['acme'] }, admin);
    assert.equal(publisher.status, 201, publisher.text);
    assert.deepEqual(publisher.json.namespaces, ['acme']);

    const issued = await call('POST', '/v1/admin/tokens', { role: 'publisher', publisher: 'acme', ttl: '1h' }, admin);
    assert.equal(issued.status, 201, issued.text);
    assert.equal(issued.json.subject, 'acme');

    const files = [
      { path: 'model.safetensors', sha256: sha('1'), size: 1234 },
      { path: 'config.json', sha256: sha('2'), size: 56 },
    ];
    const signed = await call('POST', '/v1/signatures', { model: 'acme/tiny', version: '1.0', files }, issued.json.token);
    assert.equal(signed.status, 201, signed.text);
    assert.equal(signed.headers.get('location'), `/v1/signatures/${signed.json.id}`);
    const { id, kid, bundle } = signed.json;

    const keys = await call('GET', '/v1/keys');
    const releaseKey = keys.json.keys.find((k: { kid: string }) => k.kid === kid);
    assert.equal(releaseKey.purpose, 'release');
    assert.equal(releaseKey.status, 'active');

    const byId = await call('GET', `/v1/signatures/${id}`);
    assert.equal(byId.status, 200);
    assert.deepEqual(byId.json.bundle, bundle);
    assert.equal(byId.json.publisher, 'acme');
    assert.deepEqual(byId.json.files.map((f: { path: string }) => f.path), ['config.json', 'model.safetensors']);

    const found = await call('GET', `/v1/signatures?model=acme/tiny&version=1.0`);
    assert.deepEqual(found.json.items.map((i: { id: string }) => i.id), [id]);
    const byFile = await call('GET', `/v1/signatures?sha256=${sha('2')}`);
    assert.deepEqual(byFile.json.items.map((i: { id: string }) => i.id), [id]);
    const byRoot = await call('GET', `/v1/signatures?sha256=${signed.json.rootDigest}`);
    assert.deepEqual(byRoot.json.items.map((i: { id: string }) => i.id), [id]);

    const raw = await call('GET', '/v1/models/acme/tiny/versions/1.0/bundle');
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-disposition') ?? '', /filename="model.sig"/);
    assert.deepEqual(JSON.parse(raw.text), bundle);

    const verdict = await call('POST', '/v1/verify', { bundle: JSON.parse(raw.text), files: files.map(({ path, sha256 }) => ({ path, sha256 })) });
    assert.equal(verdict.status, 200);
    assert.equal(verdict.json.valid, true, JSON.stringify(verdict.json.reasons));
    assert.equal(verdict.json.signatureId, id);
    assert.equal(verdict.json.model, 'acme/tiny');
    assert.equal(verdict.json.keyStatus, 'active');
  });
});
