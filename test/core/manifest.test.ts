import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { isModelsignError } from '../../src/core/errors.ts';
import { buildManifest, compareCodePoints, pathProblem, rootDigest } from '../../src/core/manifest.ts';

const d = (c: string) => c.repeat(64);

describe('manifest paths', () => {
  const safe = ['model.safetensors', 'unet/diffusion_pytorch_model.bin', 'a/b/c/d.json', 'ü.bin', '日本語/モデル.gguf', '.gitattributes', 'a..b', '...', 'x'.repeat(255),
    // Limits are in UTF-8 bytes: 255 bytes of 3-byte characters, of 4-byte ones, 4,095 bytes in all.
    '日'.repeat(85), '😀'.repeat(63) + 'abc', Array(16).fill('日'.repeat(85)).join('/')];
  for (const path of safe) it(`accepts ${JSON.stringify(path.slice(0, 40))}`, () => assert.equal(pathProblem(path), undefined));

  const unsafe: [string, unknown][] = [
    ['empty', ''],
    ['absolute', '/etc/passwd'],
    ['parent', '../x'],
    ['nested parent', 'a/../../b'],
    ['trailing parent', 'a/..'],
    ['dot segment', './a'],
    ['inner dot segment', 'a/./b'],
    ['empty segment', 'a//b'],
    ['trailing slash', 'a/'],
    ['NUL', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['DEL', 'a\u007fb'],
    ['C1 control', 'a\u0085b'],
    ['backslash', 'a\\..\\b'],
    ['drive letter', 'C:/x'],
    ['NFD', 'u\u0308.bin'],
    ['lone surrogate', 'a\ud800b'],
    ['segment too long', 'x'.repeat(256)],
    ['path too long', 'a/'.repeat(2049) + 'a'],
    ['segment too long in UTF-8 (258 bytes, 86 characters)', '日'.repeat(86)],
    ['segment too long in UTF-8 (256 bytes, 128 characters)', 'é'.repeat(128)],
    ['segment too long in UTF-8 (256 bytes, 64 emoji)', '😀'.repeat(64)],
    ['path too long in UTF-8 (4,097 bytes)', Array(16).fill('日'.repeat(85)).join('/') + '/a'],
    ['not a string', 42],
  ];
  for (const [label, path] of unsafe) it(`refuses ${label}`, () => assert.notEqual(pathProblem(path), undefined));
});

describe('resource order', () => {
  it('sorts by code point like Python, not by UTF-16 unit', () => {
    // U+FF21 (fullwidth A) is one UTF-16 unit above the surrogates; U+1F600 is a surrogate pair.
    const names = ['\u{1F600}', '\uFF21', 'b', 'B', 'a/b', 'a.b', 'a'];
    const sorted = [...names].sort(compareCodePoints);
    const byUtf8 = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(sorted, byUtf8);
    assert.deepEqual(sorted, ['B', 'a', 'a.b', 'a/b', 'b', '\uFF21', '\u{1F600}']);
  });
});

describe('buildManifest', () => {
  it('sorts files and computes the root digest over raw digests in order', () => {
    const m = buildManifest([
      { path: 'b', sha256: d('b'), size: 1 },
      { path: 'a', sha256: d('a'), size: 2 },
    ]);
    assert.deepEqual(m.files.map((f) => f.path), ['a', 'b']);
    const expected = createHash('sha256').update(Buffer.from(d('a') + d('b'), 'hex')).digest('hex');
    assert.equal(m.rootDigest, expected);
    assert.equal(rootDigest([d('a'), d('b')]), expected);
  });

  it('refuses duplicates with duplicate_path', () => {
    assert.throws(
      () => buildManifest([{ path: 'a', sha256: d('a') }, { path: 'a', sha256: d('b') }]),
      (err) => isModelsignError(err) && err.code === 'duplicate_path',
    );
  });

  it('refuses a path that is both a file and a folder, with other names sorting between them', () => {
    assert.throws(
      () => buildManifest([{ path: 'a', sha256: d('a') }, { path: 'a.txt', sha256: d('b') }, { path: 'a/b', sha256: d('c') }]),
      (err) => isModelsignError(err) && err.code === 'invalid_path' && /also listed as a file/.test(err.message),
    );
  });

  it('refuses files under an ignored path and unsafe ignore paths', () => {
    assert.throws(() => buildManifest([{ path: '.git/config', sha256: d('a') }], ['.git']), (err) => isModelsignError(err) && err.code === 'invalid_path');
    assert.throws(() => buildManifest([{ path: 'a', sha256: d('a') }], ['../x']), (err) => isModelsignError(err) && err.code === 'invalid_path');
  });

  it('reports every problem, naming the index the caller sent', () => {
    try {
      buildManifest([{ path: 'ok', sha256: d('a') }, { path: '/abs', sha256: d('b') }, { path: 'x', sha256: 'nothex' }]);
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(isModelsignError(err));
      assert.deepEqual(err.errors?.map((e) => e.path).sort(), ['files[1].path', 'files[2].sha256']);
    }
  });

  it('handles 10,000 files quickly enough for a request', () => {
    const files = Array.from({ length: 10_000 }, (_, i) => ({ path: `shard-${String(i).padStart(5, '0')}/weights.bin`, sha256: d((i % 10).toString()) }));
    const m = buildManifest(files.reverse());
    assert.equal(m.files[0]!.path, 'shard-00000/weights.bin');
  });
});
