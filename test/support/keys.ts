// Helpers for key-lifecycle tests: signing through the API and verifying offline with the keys
// an instance publishes.
import { keySet } from '../../src/core/keys/key-set.ts';
import assert from 'node:assert/strict';
import type { Bundle } from '../../src/core/bundle.ts';
import { trustedKeyOf } from '../../src/core/keys/key.ts';
import { verifyBundle } from '../../src/core/verify-bundle.ts';
import { bearer, sha, type TestApp } from './app.ts';

export async function signRelease(t: TestApp, token: string, version: string, model = 'acme/m') {
  const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: { model, version, files: [{ path: 'w.bin', sha256: sha(version.replace(/\D/g, '').slice(-1) || '0'), size: 1 }] } });
  return { status: res.statusCode, body: res.json() as { id: string; kid: string; logIndex: number; bundle: Bundle; code?: string } };
}

export async function onlineVerdict(t: TestApp, bundle: unknown) {
  const res = await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as { valid: boolean; reasons: { code: string; message: string }[]; keyStatus: string | null; kid: string; integratedTime: number | null };
}

/** Verifies with the public keys the instance lists (as a client that fetched /v1/keys would). */
export function offlineVerdict(t: TestApp, bundle: unknown) {
  const keys = new Map(t.services.keys.list().map((k) => [k.kid, trustedKeyOf(k)]));
  return verifyBundle(bundle, keySet(keys.values()));
}

export const codes = (v: { reasons: { code: string }[] }) => v.reasons.map((r) => r.code);
