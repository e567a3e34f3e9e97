// The verify page's decisions before and after hashing, in Node: which picked file is the
// bundle, the file-count and bundle-size limits, and how picked files map to signed ones.
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReleaseClaim } from '../../src/core/read-bundle.ts';
import { compareHashed, MAX_BUNDLE_BYTES, MAX_FILES, planVerification } from '../../src/web/verify-plan.ts';

const f = (path: string, size = 1) => ({ path, file: { size } });
const d = (n: number) => String(n).repeat(64).slice(0, 64);

describe('the verify page plan', () => {
  it('takes model.sig, else the only .sig, as the bundle', () => {
    const folder = [f('model.sig'), f('a.safetensors'), f('sub/b.sig')];
    const plan = planVerification(folder);
    assert.ok(plan.ok);
    assert.equal(plan.bundle?.path, 'model.sig');
    assert.deepEqual(plan.files.map((p) => p.path), ['a.safetensors', 'sub/b.sig']);
    const single = planVerification([f('m.ckpt'), f('m.ckpt.sig')]);
    assert.ok(single.ok && single.bundle?.path === 'm.ckpt.sig');
    const none = planVerification([f('m.ckpt')]);
    assert.ok(none.ok && none.bundle === undefined, 'no bundle: looked up by digest');
  });

  it('refuses what it cannot check, in words', () => {
    const cases: [ReturnType<typeof f>[], RegExp][] = [
      [[], /Nothing was picked/],
      [[f('a.sig'), f('b.sig'), f('m.bin')], /2 \.sig files and no model\.sig/],
      [[f('model.sig')], /Only a bundle/],
      [[f('model.sig', MAX_BUNDLE_BYTES + 1), f('m.bin')], /model\.sig is 8\.0 MiB: a bundle is at most 8\.0 MiB, so this is not one/],
      [Array.from({ length: MAX_FILES + 1 }, (_, i) => f(`w/${i}.bin`)), /10001 files were picked; the page checks at most 10,000/],
    ];
    for (const [picked, message] of cases) {
      const plan = planVerification(picked);
      assert.equal(plan.ok, false);
      assert.match((plan as { message: string }).message, message);
    }
    assert.ok(planVerification([f('model.sig', MAX_BUNDLE_BYTES), f('m.bin')]).ok, 'exactly the limit is read');
    assert.ok(planVerification(Array.from({ length: MAX_FILES }, (_, i) => f(`w/${i}.bin`))).ok);
  });

  it('compares a folder whole and picked files as far as they go', () => {
    const claim = { resources: [{ name: 'config.json', digest: d(1) }, { name: 'unet/w.safetensors', digest: d(2) }, { name: 'vae/w.safetensors', digest: d(3) }], ignorePaths: [] } as unknown as ReleaseClaim;
    const folder = compareHashed(claim, [{ path: 'config.json', sha256: d(1) }, { path: 'unet/w.safetensors', sha256: d(4) }, { path: 'extra.bin', sha256: d(5) }], 'folder');
    assert.deepEqual(folder.reasons.map((r) => `${r.code} ${r.path}`), ['file_changed unet/w.safetensors', 'file_missing vae/w.safetensors', 'file_extra extra.bin']);
    // Picked by name: config.json stands for itself; w.safetensors is ambiguous (two signed files have that name) so it is extra.
    const files = compareHashed(claim, [{ path: 'config.json', sha256: d(1) }, { path: 'w.safetensors', sha256: d(2) }], 'files');
    assert.deepEqual(files.reasons.map((r) => `${r.code} ${r.path}`), ['file_extra w.safetensors']);
    assert.deepEqual(files.unchecked, ['unet/w.safetensors', 'vae/w.safetensors']);
    const one = compareHashed({ ...claim, resources: claim.resources.slice(0, 2) } as ReleaseClaim, [{ path: 'w.safetensors', sha256: d(9) }], 'files');
    assert.deepEqual(one.reasons.map((r) => `${r.code} ${r.path}`), ['file_changed unet/w.safetensors']);
    assert.deepEqual(one.unchecked, ['config.json']);
  });
});
