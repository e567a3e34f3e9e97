// Hash, sign, verify and audit end to end against a
// running service, the tamper cases, unsafe bundles refused before any file is read, and one line
// with a distinct exit code for every failure a user can cause.
// Runs once: its subject is the client commands; the service's storage is tested in both passes elsewhere.
// Key backends: kek, pkcs11
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromBase64, toBase64 } from '../../src/core/bytes.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { loadTrust } from '../../src/cli/trust.ts';
import { verifyModel } from '../../src/cli/verify-model.ts';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { TAMPERS as tampers, writeTestModel } from '../support/tamper.ts';
import { BIN, freePort, runCliAsync } from '../support/process.ts';

describe('modelsign hash, sign, verify, audit', () => {
  let t: TestApp;
  let server: string;
  let env: Record<string, string>;
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-client-'));
  const store = path.join(dir, 'store');
  const folder = path.join(store, 'llama-7b');
  const single = path.join(store, 'ckpt.safetensors');
  const pem = path.join(dir, 'release.pem');
  const jwks = path.join(dir, 'keys.json');

  before(async () => {
    t = await createTestApp();
    server = await listenTestApp(t);
    env = { MODELSIGN_SERVER: server, MODELSIGN_TOKEN: await t.publisherToken('acme') };
    writeTestModel(folder, single);
    const release = t.services.keys.list().find((k) => k.purpose === 'release' && k.algorithm === 'Ed25519' && k.status === 'active')!;
    writeFileSync(pem, (await t.app.inject({ url: `/v1/keys/${release.kid}` })).json().pem);
    writeFileSync(jwks, (await t.app.inject({ url: '/v1/keys' })).body);
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCliAsync(args, env);

  it('hashes a folder and a file, signs both, and the bundles verify offline with only the pinned key', async () => {
    const hashed = await cli('hash', folder, '--json');
    assert.equal(hashed.status, 0, hashed.stderr);
    const manifest = JSON.parse(hashed.stdout);
    assert.deepEqual(manifest.files.map((f: { path: string }) => f.path), ['config.json', 'model.safetensors', 'tokenizer/tökenizer.json', 'tokenizer/vocab/語彙.txt']);
    assert.equal(hashed.stderr, '', 'no progress bar when not on a terminal');

    const signed = await cli('sign', folder, '--model', 'acme/llama-7b', '--version', '1.0', '--json');
    assert.equal(signed.status, 0, signed.stderr);
    const result = JSON.parse(signed.stdout);
    assert.equal(result.bundle, path.join(folder, 'model.sig'));
    assert.equal(result.rootDigest, manifest.rootDigest, 'the service signed the manifest hash computed');
    const file = await cli('sign', single, '--model', 'acme/ckpt', '--version', '2024.1');
    assert.equal(file.status, 0, file.stderr);
    assert.match(file.stdout, /bundle written to .*ckpt\.safetensors\.sig/);
    // A new release is signed with the witness proof's name among its ignore paths, so a proof
    // dropped beside the bundle later is no release file; audit takes FILE.sig.tlog-proof for no model.
    const statement = JSON.parse(Buffer.from(JSON.parse(readFileSync(path.join(folder, 'model.sig'), 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8'));
    assert.ok(JSON.stringify(statement).includes('model.sig.tlog-proof'), 'the signed ignore paths name the proof file');
    writeFileSync(path.join(folder, 'model.sig.tlog-proof'), 'c2sp.org/tlog-proof@v1\nindex 0\n\n');
    writeFileSync(`${single}.sig.tlog-proof`, 'c2sp.org/tlog-proof@v1\nindex 1\n\n');

    for (const target of [folder, single]) {
      const pinned = await cli('verify', target, '--key', pem);
      assert.equal(pinned.status, 0, pinned.stderr);
      assert.match(pinned.stdout, /^verified: .* signed by [0-9a-f]{12} \(active\); the log entry was not checked/);
      const full = await cli('verify', target, '--keys', jwks, '--json');
      assert.equal(full.status, 0, full.stderr);
      assert.equal(JSON.parse(full.stdout).logChecked, true);
      assert.equal((await cli('verify', target, '--server', server)).status, 0);
    }
    const audit = await cli('audit', store, '--keys', jwks);
    assert.equal(audit.status, 0, audit.stderr);
    assert.match(audit.stdout, /audit: 2 models, 2 verified, 0 tampered/);
  });

  for (const [what, tamper] of tampers) {
    it(`verify and audit catch ${what}, name the file and exit ${EXIT.tampered}`, async () => {
      const copyRoot = mkdtempSync(path.join(dir, 'tamper-'));
      const copy = path.join(copyRoot, 'llama-7b');
      cpSync(folder, copy, { recursive: true });
      const named = tamper(copy);
      const res = await cli('verify', copy, '--keys', jwks);
      assert.equal(res.status, EXIT.tampered, res.stdout + res.stderr);
      assert.ok(res.stderr.includes(named), `${named} named in:\n${res.stderr}`);
      assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
      const audit = await cli('audit', copyRoot, '--keys', jwks, '--json');
      assert.equal(audit.status, EXIT.tampered);
      const report = JSON.parse(audit.stdout);
      assert.equal(report.summary.tampered, 1);
      const model = report.models[0];
      assert.ok(
        [...model.changed, ...model.missing, ...model.extra, ...model.reasons.map((r: { path?: string }) => r.path)].includes(named),
        `${named} listed in ${JSON.stringify(model)}`,
      );
    });
  }

  it('verify --expect refuses an older release swapped in whole, bundle and all (rollback)', async () => {
    const root = mkdtempSync(path.join(dir, 'rollback-'));
    const v1 = path.join(root, 'v1');
    const v2 = path.join(root, 'v2');
    mkdirSync(v1);
    mkdirSync(v2);
    writeFileSync(path.join(v1, 'model.safetensors'), 'weights with a known vulnerability');
    writeFileSync(path.join(v2, 'model.safetensors'), 'fixed weights');
    for (const [folderPath, version] of [[v1, '1.0'], [v2, '2.0']] as const) {
      const r = await cli('sign', folderPath, '--model', 'acme/rollback', '--version', version);
      assert.equal(r.status, 0, r.stderr);
    }
    // The attacker replaces the deployed 2.0 with 1.0 and its genuine bundle.
    rmSync(v2, { recursive: true });
    cpSync(v1, v2, { recursive: true });
    assert.equal((await cli('verify', v2, '--keys', jwks)).status, 0, 'on its own, the old release verifies: it is genuinely signed');
    const pinned = await cli('verify', v2, '--keys', jwks, '--expect', 'acme/rollback@2.0');
    assert.equal(pinned.status, EXIT.tampered, pinned.stdout + pinned.stderr);
    assert.match(pinned.stderr, /release_unexpected: the bundle signs acme\/rollback@1\.0; expected acme\/rollback@2\.0/);
    assert.equal((await cli('verify', v2, '--keys', jwks, '--expect', 'acme/rollback@1.0')).status, 0);
    assert.equal((await cli('verify', v2, '--keys', jwks, '--expect', 'acme/rollback')).status, 0, 'a model pin without a version accepts any version');
    assert.equal((await cli('verify', v2, '--keys', jwks, '--expect', 'acme/other')).status, EXIT.tampered);
    assert.equal((await cli('verify', v2, '--keys', jwks, '--expect', 'not a release')).status, EXIT.usage);
  });

  it('draws a progress bar on a terminal', async () => {
    // util-linux `script` runs the command on a pseudo-terminal.
    const big = path.join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(200 * 1024 * 1024, 1));
    const res = spawnSync('script', ['-qec', `${process.execPath} ${BIN} hash ${big}`, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, MODELSIGN_PROGRESS_AFTER_MS: '0' },
    });
    assert.equal(res.status, 0, res.stdout);
    assert.match(res.stdout, /hashing \[[#.]{24}\] 100%  0\.20 GiB \/ 0\.20 GiB/);
    rmSync(big);
  });

  it('gives the same answers from the prebuilt client commands and from the TypeScript sources', async () => {
    const prebuilt = await cli('hash', folder, '--json');
    const sources = await runCliAsync(['hash', folder, '--json'], { ...env, MODELSIGN_NO_PREBUILT: '1' });
    assert.equal(sources.status, 0, sources.stderr);
    assert.equal(sources.stdout, prebuilt.stdout);
  });

  it('reports an unsigned model in an audit', async () => {
    const root = mkdtempSync(path.join(dir, 'unsigned-'));
    cpSync(folder, path.join(root, 'signed'), { recursive: true });
    mkdirSync(path.join(root, 'stray'));
    writeFileSync(path.join(root, 'stray', 'w.bin'), 'x');
    writeFileSync(path.join(root, 'loose.ckpt'), 'y');
    const res = await cli('audit', root, '--keys', jwks, '--json');
    assert.equal(res.status, EXIT.tampered);
    const report = JSON.parse(res.stdout);
    assert.deepEqual(report.summary, { models: 3, verified: 1, tampered: 0, unsafe: 0, unsigned: 2, untrusted: 0, errors: 0 });
  });

  it('refuses a bundle with unsafe resource names before opening any file', async () => {
    const bundle = JSON.parse(readFileSync(path.join(folder, 'model.sig'), 'utf8'));
    const statement = JSON.parse(Buffer.from(fromBase64(bundle.dsseEnvelope.payload)!).toString());
    const trust = await loadTrust({ keys: jwks });
    for (const name of ['../../etc/passwd', '/abs', 'a/../../b', 'nul\u0000byte']) {
      const crafted = structuredClone(statement);
      crafted.predicate.resources[0].name = name;
      const evil = { ...bundle, dsseEnvelope: { ...bundle.dsseEnvelope, payload: toBase64(new TextEncoder().encode(JSON.stringify(crafted))) } };
      const file = path.join(dir, 'evil.sig');
      writeFileSync(file, JSON.stringify(evil));
      let opened = 0;
      const report = await verifyModel(folder, { bundle: file, trust, allowSymlinks: false }, { hash: async () => ((opened += 1), []) });
      assert.equal(opened, 0, `no file read for ${JSON.stringify(name)}`);
      assert.equal(report.exitCode, EXIT.tampered);
      assert.ok(report.reasons.some((r) => r.code === 'resource_unsafe'), JSON.stringify(report.reasons));
      const res = await cli('verify', folder, '--bundle', file, '--keys', jwks);
      assert.equal(res.status, EXIT.tampered);
      assert.match(res.stderr, /resource_unsafe/);
    }
  });

  it('answers every failure a user can cause with one line and its own exit code', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [['verify', path.join(dir, 'nope'), '--keys', jwks], {}, EXIT.io, /no such file or folder/],
      [['hash', path.join(dir, 'nope')], {}, EXIT.io, /no such file or folder/],
      [['verify', store, '--bundle', path.join(dir, 'none.sig'), '--keys', jwks], {}, EXIT.io, /no bundle at/],
      [['verify', folder, '--keys', path.join(dir, 'nokeys.json')], {}, EXIT.io, /cannot read key set/],
      [['verify', folder], { MODELSIGN_SERVER: '' }, EXIT.usage, /--key PEM, --keys JWKS or --server URL/],
      [['sign', single, '--model', 'acme/x', '--version', '1', '--server', 'not a url'], {}, EXIT.usage, /is not a URL/],
      [['sign', single, '--model', 'acme/x', '--version', '1', '--token', 'not-a-token'], {}, EXIT.auth, /401 token_malformed/],
      [['sign', single, '--model', 'acme/x', '--version', '1', '--server', down], {}, EXIT.service, /cannot reach .* connection refused/],
      [['verify', folder, '--server', down], {}, EXIT.service, /cannot reach/],
      [['sign', single, '--model', 'acme/ckpt', '--version', '2024.1', '--ignore', 'x'], {}, EXIT.ok, /already signed/],
      [['sign', folder, '--model', 'acme/ckpt', '--version', '2024.1'], {}, EXIT.refused, /409 release_conflict/],
      [['sign', folder, '--model', 'other/x', '--version', '1'], {}, EXIT.auth, /403 forbidden_namespace/],
      [['verify'], {}, EXIT.usage, /give one PATH/],
      [['hash', folder, '--bogus'], {}, EXIT.usage, /Unknown option/],
    ];
    for (const [args, extra, code, message] of cases) {
      const res = await runCliAsync(args, { ...env, ...extra });
      assert.equal(res.status, code, `${args.join(' ')}: ${res.stdout}${res.stderr}`);
      const out = code === EXIT.ok ? res.stdout : res.stderr;
      assert.match(out, message, args.join(' '));
      if (code !== EXIT.usage) assert.equal(out.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${out}`);
      assert.doesNotMatch(res.stderr, /\n\s+at /);
    }
  });
});
