// The pip-installable Python verifier (python/, `modelsign-verify`) against releases a running
// service signed, run as a user runs it: with no `node` on PATH. It accepts the intact folder, a
// single file and a Hugging Face cache snapshot, refuses each tamper case naming the file, refuses
// a release whose key was revoked before it was logged, fetches bundles and keys itself, and
// checks witnesses against a policy. .ci/run points MODELSIGN_PY_VERIFY at the console script of
// the wheel it built and installed; elsewhere the source tree runs under Debian's python3.
// Runs once: its subject is an offline client.
// Tier: external (it drives the Python client)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { runAsync, runCliAsync, type Ran } from '../support/process.ts';
import { pythonWithCryptography } from '../support/python.ts';
import { TORCH_FIXTURES } from '../support/crafted-content.ts';
import { TAMPERS, writeTestModel } from '../support/tamper.ts';
import { ED25519_WITNESSES } from '../support/witness-cases.ts';

const SRC = fileURLToPath(new URL('../../python/src', import.meta.url));
const installed = process.env.MODELSIGN_PY_VERIFY;
const python = pythonWithCryptography();
const skip = !installed && !python && process.env.MODELSIGN_TEST_REQUIRE_PYTHON !== '1' ? 'no python3 with the cryptography package on this machine' : false;

describe('modelsign-verify (Python) against a running service, with no node on PATH', { skip }, () => {
  let t: TestApp;
  let server: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-pyverify-'));
  const folder = path.join(dir, 'llama-7b');
  const single = path.join(dir, 'ckpt.safetensors');
  const keys = path.join(dir, 'keys.json');
  // PATH holds one folder: python3 alone (for the source-tree run); the installed script's
  // shebang names its own interpreter.
  const bin = path.join(dir, 'bin');
  let snapshot: string;

  const invocation = (args: string[]) => ({
    command: installed ?? 'python3',
    argv: installed ? args : ['-m', 'modelsign_verify', ...args],
    options: { env: { PATH: bin, HOME: dir, LANG: 'C.UTF-8', ...(installed ? {} : { PYTHONPATH: SRC }), PYTHONDONTWRITEBYTECODE: '1' }, cwd: dir },
  });
  const verifyPy = (...args: string[]) => {
    const { command, argv, options } = invocation(args);
    return spawnSync(command, argv, { ...options, encoding: 'utf8' });
  };
  // Anything that talks to the in-process service must not block its event loop.
  const verifyPyOnline = (...args: string[]): Promise<Ran> => {
    const { command, argv, options } = invocation(args);
    return runAsync(command, argv, options);
  };

  before(async () => {
    mkdirSync(bin);
    if (!installed) symlinkSync(python!, path.join(bin, 'python3'));
    t = await createTestApp();
    server = await listenTestApp(t);
    const env = { MODELSIGN_SERVER: server, MODELSIGN_TOKEN: await t.publisherToken('acme') };
    writeTestModel(folder, single);
    // A hub cache snapshot: files are links into blobs/ named by their hash.
    const repo = path.join(dir, 'hub', 'models--acme--tiny');
    snapshot = path.join(repo, 'snapshots', 'b'.repeat(40));
    mkdirSync(path.join(repo, 'blobs'), { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    for (const [name, bytes] of [['model.safetensors', Buffer.alloc(4096, 9)], ['config.json', Buffer.from('{"tiny": true}\n')]] as const) {
      const blob = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(path.join(repo, 'blobs', blob), bytes);
      symlinkSync(`../../blobs/${blob}`, path.join(snapshot, name));
    }
    for (const [target, model, extra] of [[folder, 'acme/llama-7b', []], [single, 'acme/ckpt', []], [snapshot, 'acme/tiny', ['--out', path.join(dir, 'tiny.sig')]]] as const) {
      const res = await runCliAsync(['sign', target, '--model', model, '--version', '1.0', ...extra], env);
      assert.equal(res.status, 0, res.stderr);
    }
    writeFileSync(keys, JSON.stringify((await t.app.inject({ url: '/v1/keys' })).json()));
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs with no node on PATH', () => {
    assert.notEqual(spawnSync('/bin/sh', ['-c', 'command -v node'], { env: { PATH: bin } }).status, 0);
    const res = verifyPy('--version');
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^modelsign-verify \d+\.\d+\.\d+/);
  });

  it('verifies the folder, the file and the hub snapshot with a saved key set, the log entry included', () => {
    for (const [target, release, extra] of [[folder, 'acme/llama-7b@1.0', []], [single, 'acme/ckpt@1.0', []], [snapshot, 'acme/tiny@1.0', ['--bundle', path.join(dir, 'tiny.sig')]]] as const) {
      const res = verifyPy('verify', target, '--keys', keys, ...extra);
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`^verified: ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is ${release}, signed by [0-9a-f]{12} \\(active\\), log entry \\d+\\n$`));
    }
    const json = JSON.parse(verifyPy('verify', snapshot, '--keys', keys, '--bundle', path.join(dir, 'tiny.sig'), '--json').stdout);
    assert.equal(json.layout, 'hf-snapshot');
    assert.equal(json.logChecked, true);
  });

  for (const [what, tamper] of TAMPERS) {
    it(`refuses the folder after ${what}, naming the file (exit 1)`, () => {
      const copy = path.join(mkdtempSync(path.join(dir, 'tamper-')), 'llama-7b');
      cpSync(folder, copy, { recursive: true });
      const named = tamper(copy);
      const res = verifyPy('verify', copy, '--keys', keys);
      assert.equal(res.status, 1, res.stdout + res.stderr);
      assert.match(res.stderr, /^tampered: /);
      assert.ok(res.stderr.includes(named), `${named} in ${res.stderr}`);
    });
  }

  it('refuses a snapshot whose link is retargeted outside blobs/', () => {
    const copy = path.join(dir, 'hub2', 'models--acme--tiny');
    cpSync(path.dirname(path.dirname(snapshot)), copy, { recursive: true, verbatimSymlinks: true });
    const snap = path.join(copy, 'snapshots', 'b'.repeat(40));
    rmSync(path.join(snap, 'config.json'));
    symlinkSync('/etc/hostname', path.join(snap, 'config.json'));
    const res = verifyPy('verify', snap, '--keys', keys, '--bundle', path.join(dir, 'tiny.sig'));
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /symlink_outside config\.json/);
  });

  it('fetches the keys, the chain and a bundle itself, and verifies online (--server) and with a pinned key and its chain', async () => {
    const fetched = path.join(dir, 'fetched');
    mkdirSync(fetched);
    for (const what of ['keys', 'chain', 'trusted-root']) {
      const got = await verifyPyOnline('fetch', what, '--server', server, '-o', path.join(fetched, `${what}.json`));
      assert.equal(got.status, 0, got.stderr);
    }
    const res = await verifyPyOnline('fetch', 'bundle', 'acme/ckpt@1.0', '--server', server, '-o', path.join(fetched, 'ckpt.sig'));
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(JSON.parse(readFileSync(path.join(fetched, 'ckpt.sig'), 'utf8')), JSON.parse(readFileSync(`${single}.sig`, 'utf8')));
    assert.equal((await verifyPyOnline('verify', single, '--server', server, '--bundle', path.join(fetched, 'ckpt.sig'))).status, 0);
    // A pinned release key (PEM) and the saved chain lead to the log key.
    const release = JSON.parse(readFileSync(keys, 'utf8')).keys.find((k: any) => k.purpose === 'release' && k.crv === 'Ed25519' && k.status === 'active');
    const pem = path.join(fetched, 'release.pem');
    writeFileSync(pem, (await t.app.inject({ url: `/v1/keys/${release.kid}` })).json().pem);
    {
      const pinned = verifyPy('verify', folder, '--key', pem, '--chain', path.join(fetched, 'chain.json'), '--json');
      assert.equal(pinned.status, 0, pinned.stderr);
      assert.equal(JSON.parse(pinned.stdout).logChecked, true);
      // Only the pinned key: the log entry cannot be checked, and the report says so.
      const bare = verifyPy('verify', folder, '--key', pem);
      assert.equal(bare.status, 0, bare.stderr);
      assert.match(bare.stdout, /the log entry was not checked/);
      // Log keys from the trusted root complete a pinned key.
      const rooted = verifyPy('verify', folder, '--key', pem, '--trusted-root', path.join(fetched, 'trusted-root.json'), '--json');
      assert.equal(JSON.parse(rooted.stdout).logChecked, true, rooted.stderr);
      const unreachable = await verifyPyOnline('fetch', 'keys', '--server', 'http://127.0.0.1:9');
      assert.equal(unreachable.status, 5);
    }
  });

  it('checks witnesses against a policy: quorum none passes, a witness that never cosigned is not met (exit 3)', () => {
    const none = path.join(dir, 'none.policy');
    writeFileSync(none, 'quorum none\n');
    assert.equal(verifyPy('verify', folder, '--keys', keys, '--witness-policy', none).status, 0);
    const one = path.join(dir, 'one.policy');
    writeFileSync(one, `witness w0 ${ED25519_WITNESSES[0]!.vkey}\nquorum w0\n`);
    const res = verifyPy('verify', folder, '--keys', keys, '--witness-policy', one);
    assert.equal(res.status, 3, res.stdout + res.stderr);
    assert.match(res.stderr, /witness_quorum_not_met/);
    const bad = path.join(dir, 'bad.policy');
    writeFileSync(bad, 'quorum nobody\n');
    assert.equal(verifyPy('verify', folder, '--keys', keys, '--witness-policy', bad).status, 2);
  });

  it('refuses signed content that can run code when loaded (exit 8, content_code_capable) unless --allow-unsafe-content, as the Node CLI does', async () => {
    const unsafe = path.join(dir, 'unsafe');
    mkdirSync(unsafe);
    cpSync(path.join(TORCH_FIXTURES, 'payload.pt'), path.join(unsafe, 'model.pt'));
    cpSync(path.join(TORCH_FIXTURES, 'state-dict.pt'), path.join(unsafe, 'ok.pt'));
    const env = { MODELSIGN_SERVER: server, MODELSIGN_TOKEN: await t.publisherToken('acme') };
    const signed = await runCliAsync(['sign', unsafe, '--model', 'acme/unsafe', '--version', '1.0', '--allow-unsafe-content'], env);
    assert.equal(signed.status, 0, signed.stderr);
    const res = verifyPy('verify', unsafe, '--keys', keys);
    assert.equal(res.status, 8, res.stdout + res.stderr);
    assert.match(res.stderr, /^unsafe: /m);
    assert.match(res.stderr, /content_code_capable model\.pt: code-capable {2}model\.pt \(pytorch-zip\): pickle_unsafe_global: .*posix\.system/);
    assert.doesNotMatch(res.stderr, /ok\.pt/);
    const allowed = verifyPy('verify', unsafe, '--keys', keys, '--allow-unsafe-content', '--json');
    assert.equal(allowed.status, 0, allowed.stderr);
    const report = JSON.parse(allowed.stdout) as { unsafeContentAllowed: boolean; content: { path: string; verdict: string }[] };
    assert.equal(report.unsafeContentAllowed, true);
    assert.deepEqual(report.content.map((c) => [c.path, c.verdict]), [['model.pt', 'code-capable'], ['ok.pt', 'allowlisted-pickle']]);
    const scan = verifyPy('scan', unsafe, '--json');
    assert.equal(scan.status, 8, scan.stderr);
    assert.deepEqual((JSON.parse(scan.stdout) as { files: { verdict: string }[] }).files.map((f) => f.verdict), ['code-capable', 'allowlisted-pickle']);
  });

  it('refuses a release whose key was revoked before it was logged (exit 3); scan needs no key', async () => {
    const release = t.services.keys.list().find((k) => k.purpose === 'release' && k.algorithm === 'Ed25519' && k.status === 'active')!;
    await t.services.keys.revoke(release.kid, { compromisedAt: release.createdAt, reason: 'test' }, 'test');
    const revokedKeys = path.join(dir, 'revoked-keys.json');
    writeFileSync(revokedKeys, JSON.stringify((await t.app.inject({ url: '/v1/keys' })).json()));
    const res = verifyPy('verify', folder, '--keys', revokedKeys);
    assert.equal(res.status, 3, res.stdout + res.stderr);
    assert.match(res.stderr, /key_revoked/);
    const scan = verifyPy('scan', folder);
    assert.equal(scan.status, 0, scan.stderr);
    assert.match(scan.stdout, /^scan: \d+ files: /m);
  });
});
