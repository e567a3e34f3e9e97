// The verification module under src/core runs without
// node:crypto, fs or any Node API. It is bundled with esbuild for a neutral platform (any import
// of a Node module fails the build) and run in a bare vm context that has only what every
// browser has (TextEncoder, TextDecoder, atob, btoa), where it verifies a service bundle with
// its log entry and rotation chain, and passes the Ed25519, ECDSA P-256 and RFC 6962 vectors.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import vm from 'node:vm';
import { build } from 'esbuild';
import { bearer, createTestApp, type TestApp } from '../support/app.ts';
import { p256Vectors } from '../support/ecdsa-vectors.ts';
import { signVectors, wycheproofVectors } from '../support/ed25519-vectors.ts';
import { signRelease } from '../support/keys.ts';
import { VECTORS } from '../support/vectors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('the portable verifier (src/core/verifier.ts)', () => {
  let code: string;
  let t: TestApp;
  before(async () => {
    const out = await build({
      entryPoints: [new URL('../../src/core/verifier.ts', import.meta.url).pathname],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'verifier',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      logLevel: 'silent',
    });
    code = out.outputFiles[0]!.text;
    t = await createTestApp();
  });
  after(() => t.close());

  const run = (script: string, input: unknown) => {
    const context = vm.createContext({ TextEncoder, TextDecoder, atob, btoa, input: JSON.stringify(input) });
    vm.runInContext(code, context);
    return JSON.parse(vm.runInContext(`JSON.stringify((() => { const input_ = JSON.parse(input); ${script} })())`, context));
  };

  it('bundles without any Node module and runs where there is no require, Buffer or crypto', () => {
    assert.doesNotMatch(code, /\brequire\(|["']node:|\bprocess\.|\bBuffer\.from/);
    const globals = run('return [typeof require, typeof Buffer, typeof process, typeof crypto, typeof verifier.verifyBundle];', null);
    assert.deepEqual(globals, ['undefined', 'undefined', 'undefined', 'undefined', 'function']);
  });

  it('verifies a service bundle with its log entry, follows the rotation chain, and refuses a tampered one', async () => {
    const admin = await t.adminToken();
    const pub = await t.publisherToken('acme');
    const first = t.services.keys.list().find((k) => k.purpose === 'release' && k.algorithm === 'Ed25519' && k.status === 'active')!;
    await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'release' } });
    const signed = await signRelease(t, pub, '1.0');
    const chain = (await t.app.inject({ url: '/v1/keys/chain' })).json();
    const pem = (await t.app.inject({ url: `/v1/keys/${first.kid}` })).json().pem;
    const files = [{ path: 'w.bin', sha256: signed.body.bundle ? JSON.parse(Buffer.from(signed.body.bundle.dsseEnvelope.payload, 'base64').toString()).predicate.resources[0].digest : '' }];
    const result = run(
      `const pinned = verifier.parseSpkiPem(input_.pem);
       const keys = verifier.verifyKeyChain(input_.chain, pinned);
       const trust = verifier.keySet(keys);
       const ok = verifier.verifyBundle(input_.bundle, { ...trust, files: input_.files });
       const tampered = JSON.parse(JSON.stringify(input_.bundle));
       tampered.verificationMaterial.tlogEntries[0].inclusionProof.treeSize = '999';
       const bad = verifier.verifyBundle(tampered, trust);
       const changed = verifier.verifyBundle(input_.bundle, { ...trust, files: [{ path: 'w.bin', sha256: 'f'.repeat(64) }] });
       return { ok: ok.reasons, logIndex: ok.logIndex, bad: bad.reasons.map((r) => r.code), changed: changed.reasons.map((r) => r.code), trusted: keys.length };`,
      { pem, chain, bundle: signed.body.bundle, files },
    );
    assert.deepEqual(result.ok, []);
    assert.equal(result.logIndex, signed.body.logIndex);
    assert.deepEqual(result.bad, ['checkpoint_mismatch']);
    assert.deepEqual(result.changed, ['file_changed']);
    assert.ok(result.trusted >= 3, 'two release keys and the log key');
  });

  it('passes the Ed25519 vectors', () => {
    const sign = signVectors().map((v) => ({ pk: hex(v.publicKey), msg: hex(v.message), sig: hex(v.signature) }));
    const verify = wycheproofVectors().map((v) => ({ pk: hex(v.publicKey), msg: hex(v.message), sig: hex(v.signature), valid: v.valid, id: v.id }));
    const result = run(
      `const b = (h) => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);
       const verify = (v) => verifier.verifySignature({ algorithm: 'Ed25519', publicKey: b(v.pk) }, b(v.sig), b(v.msg));
       const sign = input_.sign.filter((v) => !verify(v)).length;
       const wrong = input_.verify.filter((v) => verify(v) !== v.valid).map((v) => v.id);
       return { sign, wrong, count: input_.sign.length + input_.verify.length };`,
      { sign, verify },
    );
    assert.equal(result.sign, 0, 'every RFC 8032 signature verifies');
    assert.deepEqual(result.wrong, []);
    assert.ok(result.count > 1000);
  });

  it('passes the Wycheproof ECDSA P-256 vectors (DER: valid and invalid as marked; every r‖s form refused)', () => {
    const der = p256Vectors('der').map((v) => ({ pk: hex(v.publicKey), msg: hex(v.message), sig: hex(v.signature), valid: v.valid, id: v.id }));
    const p1363 = p256Vectors('p1363').map((v) => ({ pk: hex(v.publicKey), msg: hex(v.message), sig: hex(v.signature), id: v.id }));
    const result = run(
      `const b = (h) => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);
       const verify = (v) => verifier.verifySignature({ algorithm: 'ECDSA P-256', publicKey: b(v.pk) }, b(v.sig), b(v.msg));
       const wrong = input_.der.filter((v) => verify(v) !== v.valid).map((v) => v.id);
       const raw = input_.p1363.filter((v) => verify(v)).map((v) => v.id);
       return { wrong, raw, valid: input_.der.filter((v) => v.valid).length, total: input_.der.length };`,
      { der, p1363 },
    );
    assert.deepEqual(result.wrong, []);
    assert.deepEqual(result.raw, [], 'a P1363 signature never verifies as DER');
    assert.ok(result.valid > 100 && result.total > 400, `${result.valid} valid of ${result.total}`);
  });

  it('passes the RFC 6962 inclusion and consistency vectors', () => {
    const load = (kind: string) => {
      const out: unknown[] = [];
      const walk = (dir: string) => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) walk(p);
          else out.push(JSON.parse(readFileSync(p, 'utf8')));
        }
      };
      walk(path.join(VECTORS, 'merkle', kind));
      return out;
    };
    const result = run(
      `const b = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
       const outcome = (f) => { try { f(); return false; } catch { return true; } };
       const inc = input_.inclusion.filter((v) => outcome(() => verifier.verifyInclusion(v.leafIdx, v.treeSize, b(v.leafHash), (v.proof ?? []).map(b), b(v.root))) !== v.wantErr).length;
       const con = input_.consistency.filter((v) => outcome(() => verifier.verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b), b(v.root1), b(v.root2))) !== v.wantErr).length;
       return { inc, con, total: input_.inclusion.length + input_.consistency.length };`,
      { inclusion: load('inclusion'), consistency: load('consistency') },
    );
    assert.deepEqual([result.inc, result.con], [0, 0]);
    assert.equal(result.total, 196);
  });
});
