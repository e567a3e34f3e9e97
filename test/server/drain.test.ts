// Draining (what SIGTERM starts; the process-level test is test/faults/sigterm.test.ts): from the
// moment an instance drains, readiness fails and every new request, probes included, gets 503
// problem+json with Connection: close, so load balancers and clients move elsewhere.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.ts';

describe('draining', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('refuses new requests with 503 problem+json and fails readiness', async () => {
    assert.equal((await t.app.inject({ url: '/readyz' })).statusCode, 200);
    assert.equal((await t.app.inject({ url: '/v1/keys' })).statusCode, 200);
    t.app.drain();
    for (const url of ['/readyz', '/v1/keys', '/v1/log/checkpoint']) {
      const res = await t.app.inject({ url });
      assert.equal(res.statusCode, 503, url);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(res.json().code, 'unavailable');
      assert.equal(res.headers.connection, 'close');
    }
  });
});
