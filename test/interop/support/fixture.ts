// A service with bundles of both algorithms made across a release-key rotation and a log-key
// rotation, and the trust material a Sigstore client would fetch afterwards: what the interop
// tests verify with standard verifiers (sigstore-js) and with a verifier written to other
// clients' rules (sigstore-go, model_signing's parser).
import assert from 'node:assert/strict';
import type { Bundle } from '../../../src/core/bundle.ts';
import { bearer, createTestApp, sha, type TestApp } from '../../support/app.ts';

export interface SignedBundle {
  name: string;
  algorithm: 'ed25519' | 'ecdsa-p256';
  kid: string;
  bundle: Bundle;
}

export interface InteropFixture {
  t: TestApp;
  admin: string;
  bundles: SignedBundle[];
  trustedRoot: any;
  /** GET /v1/keys/{kid}'s PEM, by kid. */
  pems: Map<string, string>;
}

export async function interopFixture(): Promise<InteropFixture> {
  const t = await createTestApp();
  const admin = await t.adminToken();
  const pub = await t.publisherToken('acme', ['acme', 'acme-ec']);
  const patched = await t.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(admin), payload: { signingAlgorithms: { 'acme-ec': 'ecdsa-p256' } } });
  assert.equal(patched.statusCode, 200, patched.body);
  const bundles: SignedBundle[] = [];
  const sign = async (when: string, version: string) => {
    for (const [ns, algorithm] of [['acme', 'ed25519'], ['acme-ec', 'ecdsa-p256']] as const) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/signatures',
        headers: bearer(pub),
        payload: { model: `${ns}/llm`, version, files: [{ path: 'model.safetensors', sha256: sha(version.slice(0, 1)), size: 10 }] },
      });
      assert.equal(res.statusCode, 201, res.body);
      bundles.push({ name: `${algorithm}, ${when}`, algorithm, kid: res.json().kid, bundle: res.json().bundle });
    }
  };
  await sign('signed before a release-key rotation', '1.0');
  for (const algorithm of ['ed25519', 'ecdsa-p256']) {
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'release', algorithm } });
    assert.equal(res.statusCode, 200, res.body);
  }
  await sign('signed before a log-key rotation', '2.0');
  const log = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'log' } });
  assert.equal(log.statusCode, 200, log.body);
  await sign('signed last', '3.0');
  const trustedRoot = (await t.app.inject({ url: '/v1/trusted-root' })).json();
  const pems = new Map<string, string>();
  for (const b of bundles) if (!pems.has(b.kid)) pems.set(b.kid, (await t.app.inject({ url: `/v1/keys/${b.kid}` })).json().pem);
  return { t, admin, bundles, trustedRoot, pems };
}
