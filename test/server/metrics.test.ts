// /metrics parses with an independent Prometheus text parser
// and moves as expected through a signing flow: requests by route and status, signatures issued,
// verifications by verdict, rotations, revocations, log size, checkpoint age, pool state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createTestApp, type TestApp } from '../support/app.ts';
import { signRelease } from '../support/keys.ts';
import { parseMetrics, prometheusParser, sampleValue, scrape, type Family } from '../support/prometheus.ts';

const parser = prometheusParser();

describe('/metrics', { skip: !parser && 'needs python3-prometheus-client (the reference text parser); CI installs it' }, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ tlogWaitMs: 5_000 });
  });
  after(() => t.close());

  it('is Prometheus text with HELP and TYPE for every family, served as text/plain version 0.0.4', async () => {
    const res = await t.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const families = parseMetrics(res.body);
    const names = families.map((f) => (f.type === 'counter' ? `${f.name}_total` : f.name));
    for (const name of [
      'modelsign_http_request_duration_seconds',
      'modelsign_signatures_issued_total',
      'modelsign_verifications_total',
      'modelsign_keys',
      'modelsign_key_rotations_total',
      'modelsign_key_revocations_total',
      'modelsign_log_size',
      'modelsign_checkpoint_age_seconds',
      'modelsign_db_pool_connections',
    ]) {
      assert.ok(names.includes(name), name);
    }
    for (const f of families) assert.ok(f.help.length > 0, `${f.name} has help`);
    assert.equal(families.find((f) => f.name === 'modelsign_http_request_duration_seconds')!.type, 'histogram');
    assert.equal(families.find((f) => f.name === 'modelsign_signatures_issued')!.type, 'counter');
  });

  it('moves as expected during a signing flow', async () => {
    const at = async () => scrape(t.app);
    const v = (f: Family[], name: string, labels?: Record<string, string>) => sampleValue(f, name, labels);
    const m0 = await at();
    const admin = await t.adminToken();
    const token = await t.publisherToken('acme');

    const signed: Array<Awaited<ReturnType<typeof signRelease>>['body']> = [];
    for (const version of ['1.0', '1.1', '1.2']) {
      const r = await signRelease(t, token, version);
      assert.equal(r.status, 201);
      signed.push(r.body);
    }
    assert.equal((await signRelease(t, token, '1.0')).status, 200, 'the same release again is not a new signature');
    await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: { model: 'other/x', version: '1', files: [{ path: 'a', sha256: 'a'.repeat(64), size: 1 }] } });
    await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle: signed[0]!.bundle } });
    const tampered = structuredClone(signed[1]!.bundle) as { dsseEnvelope: { signature?: string; signatures: { sig: string }[] } };
    tampered.dsseEnvelope.signatures[0]!.sig = Buffer.alloc(64).toString('base64');
    await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle: tampered } });
    const rotated = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'release' } });
    assert.equal(rotated.statusCode, 200, rotated.body);
    const old = rotated.json().previous.kid as string;
    const revoked = await t.app.inject({ method: 'POST', url: `/v1/admin/keys/${old}/revoke`, headers: bearer(admin), payload: { compromisedAt: new Date().toISOString(), reason: 'metrics test' } });
    assert.equal(revoked.statusCode, 200, revoked.body);

    const m1 = await at();
    const delta = (name: string, labels?: Record<string, string>) => v(m1, name, labels) - v(m0, name, labels);
    assert.equal(delta('modelsign_signatures_issued_total'), 3);
    assert.equal(delta('modelsign_verifications_total', { verdict: 'valid' }), 1);
    assert.equal(delta('modelsign_verifications_total', { verdict: 'invalid', reason: 'signature_invalid' }), 1);
    assert.equal(delta('modelsign_http_request_duration_seconds', { method: 'POST', route: '/v1/signatures', status: '201' }), 3);
    assert.equal(delta('modelsign_http_request_duration_seconds', { method: 'POST', route: '/v1/signatures', status: '200' }), 1);
    assert.equal(delta('modelsign_http_request_duration_seconds', { method: 'POST', route: '/v1/signatures', status: '403' }), 1);
    assert.equal(delta('modelsign_key_rotations_total', { purpose: 'release' }), 1);
    assert.equal(delta('modelsign_key_rotations_total', { purpose: 'log' }), 0);
    assert.equal(delta('modelsign_key_revocations_total', { purpose: 'release' }), 1);
    assert.equal(v(m1, 'modelsign_keys', { purpose: 'release', algorithm: 'ed25519', status: 'revoked' }), 1);
    assert.equal(v(m1, 'modelsign_keys', { purpose: 'release', algorithm: 'ed25519', status: 'active' }), 1);
    assert.equal(v(m1, 'modelsign_keys', { purpose: 'release', algorithm: 'ecdsa-p256', status: 'active' }), 1);
    assert.equal(v(m1, 'modelsign_keys', { purpose: 'token', algorithm: 'ed25519', status: 'active' }), 1);
    // The first key of each release algorithm is no rotation: one release rotation in all.
    assert.equal(v(m1, 'modelsign_key_rotations_total', { purpose: 'release' }), 1);
    assert.ok(v(m1, 'modelsign_log_size') >= 3, 'the log holds the three signatures');
    const age = v(m1, 'modelsign_checkpoint_age_seconds');
    assert.ok(age >= 0 && age < 60, `checkpoint age ${age}`);
    assert.ok(v(m1, 'modelsign_db_pool_connections', { state: 'total' }) >= 1);
    // Route labels are patterns, never raw URLs.
    await t.app.inject({ url: `/v1/signatures/${signed[0]!.id}` });
    await t.app.inject({ url: '/no/such/route/abc123' });
    const m2 = await at();
    const routes = new Set(m2.find((f) => f.name === 'modelsign_http_request_duration_seconds')!.samples.map((s) => s.labels.route));
    assert.ok(routes.has('/v1/signatures/:id'));
    assert.ok(routes.has('unmatched'));
    assert.ok(![...routes].some((r) => r !== undefined && (r.includes(signed[0]!.id) || r.includes('abc123'))));
  });
});
