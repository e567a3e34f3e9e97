// The Fooocus hook (examples/fooocus/modelsign_hook.py, on the modelsign-verify package: the
// installed wheel in .ci/run, the source tree elsewhere) against a Fooocus-shaped models folder
// the service signed, with stand-ins for torch.load and safetensors.torch.load_file behind
// Fooocus's own build_loaded (test/fixtures/fooocus/run_hook.py): signed safetensors and
// weights-only pickles load; a signed pickle with a payload, an unsigned file, and a changed file
// are refused outside build_loaded (so it does not rename them as corrupted); a file swapped
// between check and load is not what gets loaded; a file written in place during the load is
// refused after it.
// Runs once: its subject is an offline client; the service's storage is tested in both passes elsewhere.
// Tier: external (it drives the Python client)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { runCliAsync } from '../support/process.ts';
import { pythonPackage } from '../support/python.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const pkg = pythonPackage();
// .ci/run installs Debian's python3-cryptography and sets MODELSIGN_TEST_REQUIRE_PYTHON=1, so
// this never skips there; on a machine without it, the skip says why.
const skip = !pkg && process.env.MODELSIGN_TEST_REQUIRE_PYTHON !== '1' ? 'no python3 with the cryptography package on this machine' : false;

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

interface Case {
  loader: 'torch' | 'safetensors';
  path: string;
  swap_with?: string;
  append?: string;
}

describe('the Fooocus hook', { skip }, () => {
  let t: TestApp;
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-fooocus-'));
  const models = path.join(dir, 'Fooocus', 'models');
  const file = (p: string) => path.join(models, p);
  const pem = path.join(dir, 'release.pem');
  const corpus = path.join(dir, 'corpus');

  const run = (cases: Case[], env: Record<string, string> = {}) => {
    const res = spawnSync(pkg!.python, [here('../fixtures/fooocus/run_hook.py'), here('../../examples/fooocus/'), JSON.stringify(cases)], {
      encoding: 'utf8',
      env: { ...process.env, ...pkg!.env, MODELSIGN_KEY: pem, ...env },
    });
    assert.equal(res.status, 0, res.stderr);
    return res.stdout.trim().split('\n').map((l) => JSON.parse(l) as { loaded?: string; refused?: string; message?: string; error?: string; still_there: boolean });
  };

  before(async () => {
    assert.ok(pkg, 'python3 with cryptography is required');
    const made = spawnSync('python3', [here('../fixtures/scan/make_corpus.py'), corpus, '--no-polyglot'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    t = await createTestApp();
    const server = await listenTestApp(t);
    const env = { MODELSIGN_SERVER: server, MODELSIGN_TOKEN: await t.publisherToken('acme') };
    const layout: [string, string, string[]][] = [
      ['checkpoints/juggernautXL_v8Rundiffusion.safetensors', 'every_dtype.safetensors', []],
      ['vae_approx/xlvaeapp.pth', 'state_dict.pt', []],
      ['loras/sd15_style.ckpt', 'lightning.ckpt', []],
      ['loras/evil_lora.pth', 'evil_state_dict.pt', ['--allow-unsafe-content']],
      ['checkpoints/swapped.safetensors', 'every_dtype.safetensors', []],
      ['inpaint/fooocus_inpaint_head.pth', 'state_dict.pt', []],
    ];
    for (const [target, source, extra] of layout) {
      mkdirSync(path.dirname(file(target)), { recursive: true });
      copyFileSync(path.join(corpus, source), file(target));
      const signed = await runCliAsync(['sign', file(target), '--model', `acme/${path.basename(target).replace(/[^A-Za-z0-9._-]/g, '-')}`, '--version', '1.0', ...extra], env);
      assert.equal(signed.status, 0, signed.stderr);
    }
    copyFileSync(path.join(corpus, 'every_dtype.safetensors'), file('loras/unsigned.safetensors'));
    copyFileSync(path.join(corpus, 'eval.pkl'), file('loras/unsigned_evil.pth'));
    const bundle = JSON.parse(readFileSync(`${file('vae_approx/xlvaeapp.pth')}.sig`, 'utf8'));
    writeFileSync(pem, (await t.app.inject({ url: `/v1/keys/${bundle.verificationMaterial.publicKey.hint}` })).json().pem);
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads signed safetensors and weights-only pickles through both loaders, handing over the checked bytes', () => {
    const targets: Case[] = [
      { loader: 'safetensors', path: file('checkpoints/juggernautXL_v8Rundiffusion.safetensors') },
      { loader: 'torch', path: file('vae_approx/xlvaeapp.pth') },
      { loader: 'torch', path: file('loras/sd15_style.ckpt') },
      { loader: 'torch', path: file('inpaint/fooocus_inpaint_head.pth') },
    ];
    const results = run(targets);
    results.forEach((r, i) => {
      assert.equal(r.loaded, digest(targets[i]!.path), JSON.stringify(r));
      assert.ok(r.still_there);
    });
  });

  it('refuses a signed pickle that can run code, outside build_loaded: the file is not renamed as corrupted', () => {
    const [r] = run([{ loader: 'torch', path: file('loras/evil_lora.pth') }]);
    assert.equal(r!.refused, 'content_code_capable', JSON.stringify(r));
    assert.match(r!.message!, /evil_lora\.pth.*posix\.system/);
    assert.equal(r!.still_there, true);
  });

  it('refuses unsigned files, and with MODELSIGN_ALLOW_UNSIGNED=1 loads them after the content check alone', () => {
    const cases: Case[] = [
      { loader: 'safetensors', path: file('loras/unsigned.safetensors') },
      { loader: 'torch', path: file('loras/unsigned_evil.pth') },
    ];
    const strict = run(cases);
    assert.deepEqual(strict.map((r) => r.refused), ['unsigned', 'unsigned']);
    const lenient = run(cases, { MODELSIGN_ALLOW_UNSIGNED: '1' });
    assert.equal(lenient[0]!.loaded, digest(file('loras/unsigned.safetensors')));
    assert.equal(lenient[1]!.refused, 'content_code_capable');
    assert.match(lenient[1]!.message!, /builtins\.eval/);
  });

  it('loads what it checked when the file is swapped between check and load, through either loader', () => {
    const checked = digest(file('checkpoints/swapped.safetensors'));
    for (const loader of ['safetensors', 'torch'] as const) {
      const target = file('checkpoints/swapped.safetensors');
      const evil = path.join(dir, `evil-${loader}.safetensors`);
      copyFileSync(path.join(corpus, 'eval.pkl'), evil);
      const swappedIn = digest(evil);
      const [r] = run([{ loader, path: target, swap_with: evil }]);
      assert.equal(r!.loaded, checked, `${loader}: the loader read the checked file, not the swapped-in one (${JSON.stringify(r)})`);
      assert.equal(digest(target), swappedIn, 'the swap did happen on disk');
      // A later load checks the new file and refuses it.
      const [again] = run([{ loader, path: target }]);
      assert.equal(again!.refused, 'file_changed');
      copyFileSync(path.join(corpus, 'every_dtype.safetensors'), target);
    }
  });

  it('refuses a file that no longer matches its bundle, and one written in place during the load (after the load)', () => {
    const target = file('inpaint/fooocus_inpaint_head.pth');
    const [during] = run([{ loader: 'torch', path: target, append: 'x' }]);
    assert.equal(during!.refused, 'changed_during_load', JSON.stringify(during));
    assert.match(during!.message!, /fooocus_inpaint_head\.pth: the file was rewritten in place while it was loaded: the loader has already read those bytes/);
    const [after] = run([{ loader: 'torch', path: target }]);
    assert.equal(after!.refused, 'file_changed');
    assert.match(after!.message!, /fooocus_inpaint_head\.pth: \[file_changed\] fooocus_inpaint_head\.pth has SHA-256 [0-9a-f]{64}, signed [0-9a-f]{64}/);
    assert.equal(after!.still_there, true);
  });
});
