// The ComfyUI custom node (examples/comfyui/modelsign_guard, on the modelsign-verify package)
// against a ComfyUI-shaped models folder the service signed, loaded through a stand-in of
// `comfy.utils.load_torch_file`'s call path (test/fixtures/comfyui/run_comfy.py): with stand-in
// torch and safetensors modules under the package's Python (the installed wheel in .ci/run), and
// with the real torch and safetensors when MODELSIGN_TORCH_PYTHON names an interpreter that has
// them (.ci/run sets it to its torch environment, with MODELSIGN_TEST_REQUIRE_TORCH=1). Signed
// safetensors and checkpoints load; a signed pickle that can run code, an unsigned file and a
// changed file are refused; a file swapped as the loader opens it is not what loads.
// Runs once: its subject is an offline client.
// Tier: external (it drives the Python client, on torch where installed)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { TORCH_FIXTURES } from '../support/crafted-content.ts';
import { runCliAsync } from '../support/process.ts';
import { pythonPackage } from '../support/python.ts';
import { safetensorsFile } from '../support/safetensors-cases.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const pkg = pythonPackage();
const skip = !pkg && process.env.MODELSIGN_TEST_REQUIRE_PYTHON !== '1' ? 'no python3 with the cryptography package on this machine' : false;
const torchPython = process.env.MODELSIGN_TORCH_PYTHON;
const torchSkip = torchPython || process.env.MODELSIGN_TEST_REQUIRE_TORCH === '1' ? false : 'no Python with torch named by MODELSIGN_TORCH_PYTHON (.ci/run names its torch environment)';

interface Result {
  loaded?: string;
  as_expected?: boolean;
  refused?: string;
  message?: string;
  real: boolean;
  hooked: boolean;
}

describe('the ComfyUI custom node', { skip }, () => {
  let t: TestApp;
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-comfyui-'));
  const models = path.join(dir, 'ComfyUI', 'models');
  const file = (p: string) => path.join(models, p);
  const pristine = path.join(dir, 'pristine');
  const keys = path.join(dir, 'keys.json');

  const run = (python: string, cases: object[], env: Record<string, string>): Result[] => {
    const res = spawnSync(python, [here('../fixtures/comfyui/run_comfy.py'), here('../../examples/comfyui/'), JSON.stringify(cases)], {
      encoding: 'utf8',
      env: { ...process.env, ...pkg!.env, ...env, MODELSIGN_KEYS: keys },
    });
    assert.equal(res.status, 0, res.stderr);
    return res.stdout.trim().split('\n').map((l) => JSON.parse(l) as Result);
  };

  before(async () => {
    t = await createTestApp();
    const server = await listenTestApp(t);
    const env = { MODELSIGN_SERVER: server, MODELSIGN_TOKEN: await t.publisherToken('acme') };
    mkdirSync(pristine);
    const weights = safetensorsFile('{"w":{"dtype":"F32","shape":[2,4],"data_offsets":[0,32]}}', 32);
    const other = safetensorsFile('{"v":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}', 32);
    writeFileSync(path.join(pristine, 'sd15.safetensors'), weights);
    writeFileSync(path.join(pristine, 'other.safetensors'), other);
    const layout: [string, string, string[]][] = [
      ['checkpoints/sd15.safetensors', path.join(pristine, 'sd15.safetensors'), []],
      ['loras/style.ckpt', path.join(TORCH_FIXTURES, 'lightning.ckpt'), []],
      ['vae/vae.pt', path.join(TORCH_FIXTURES, 'state-dict.pt'), []],
      ['upscale_models/evil.pth', path.join(TORCH_FIXTURES, 'payload.pt'), ['--allow-unsafe-content']],
    ];
    for (const [target, source, extra] of layout) {
      mkdirSync(path.dirname(file(target)), { recursive: true });
      copyFileSync(source, file(target));
      copyFileSync(source, path.join(pristine, path.basename(target)));
      const signed = await runCliAsync(['sign', file(target), '--model', `acme/${path.basename(target).replace(/\./g, '-')}`, '--version', '1.0', ...extra], env);
      assert.equal(signed.status, 0, signed.stderr);
    }
    copyFileSync(path.join(pristine, 'other.safetensors'), file('vae/unsigned.safetensors'));
    writeFileSync(keys, (await t.app.inject({ url: '/v1/keys' })).body);
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const scenario = (python: string, real: boolean, env: Record<string, string> = {}) => {
    const cases = [
      { path: file('checkpoints/sd15.safetensors'), expect: path.join(pristine, 'sd15.safetensors') },
      { path: file('loras/style.ckpt'), expect: path.join(pristine, 'style.ckpt') },
      { path: file('vae/vae.pt'), expect: path.join(pristine, 'vae.pt') },
      { path: file('upscale_models/evil.pth') },
      { path: file('vae/unsigned.safetensors') },
    ];
    const results = run(python, cases, env);
    for (const r of results) {
      assert.equal(r.real, real, 'real torch or the stand-ins, as asked');
      assert.equal(r.hooked, true, 'the custom node hooked torch.load at import');
    }
    const [sd15, style, vae, evil, unsigned] = results;
    for (const r of [sd15, style, vae]) assert.equal(r!.as_expected, true, JSON.stringify(r));
    assert.equal(evil!.refused, 'content_code_capable', JSON.stringify(evil));
    assert.match(evil!.message!, /evil\.pth.*posix\.system/);
    assert.equal(unsigned!.refused, 'unsigned', JSON.stringify(unsigned));

    // Swapped for another file as the loader opens it (after the check): the checked file loads.
    const target = file('checkpoints/sd15.safetensors');
    const intruder = path.join(dir, 'intruder.safetensors');
    copyFileSync(path.join(pristine, 'other.safetensors'), intruder);
    const [swapped] = run(python, [{ path: target, swap_with: intruder, expect: path.join(pristine, 'sd15.safetensors') }], env);
    assert.equal(swapped!.as_expected, true, `the checked file loaded, not the intruder: ${JSON.stringify(swapped)}`);
    // The next load checks what is there now: refused.
    const [again] = run(python, [{ path: target }], env);
    assert.equal(again!.refused, 'file_changed', JSON.stringify(again));
    copyFileSync(path.join(pristine, 'sd15.safetensors'), target);
  };

  it('checks every load_torch_file with stand-in loaders (the package alone, no torch)', () => {
    scenario(pkg!.python, false);
  });

  it('checks every load_torch_file with the real torch and safetensors', { skip: torchSkip }, () => {
    assert.ok(torchPython, 'MODELSIGN_TORCH_PYTHON names a Python with torch');
    // The torch environment is shared between runs: the package comes from the source tree, not installed into it.
    scenario(torchPython, true, { PYTHONPATH: fileURLToPath(new URL('../../python/src', import.meta.url)) });
  });
});
