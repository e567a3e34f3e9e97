// A verdict cannot depend on how the bytes arrive. Property (fast-check): for every file of the
// corpora (the real-PyTorch one, test/fixtures/torch; the crafted and hand-made one,
// test/fixtures/scan/make_corpus.py; the two files crafted against a checker that kept views of
// its caller's buffer) and for torch-layout archives over 1 MiB and over 64 MiB
// (test/support/torch-zip.ts), the report is the same fed whole, in copied chunks, or through one
// reused Node Buffer as cli/hash-share.ts reads (chunks of 1 byte to 4 KiB for files up to 1 MiB,
// 64 KiB and up for the large ones). Then: a zip that changes between the read-ahead of its
// directory and the hashing pass is refused, whatever changed.
// Runs once: no database.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { checkContent, ContentCheck, readAhead } from '../../../src/core/scan/classify.ts';
import type { ContentReport } from '../../../src/core/scan/verdict.ts';
import { craftedRawPickle, craftedTorchArchive, largeStateDict, readFixture, TORCH_FIXTURES } from '../../support/crafted-content.ts';

const MiB = 1024 * 1024;
const MAKE_CORPUS = fileURLToPath(new URL('../../fixtures/scan/make_corpus.py', import.meta.url));

type Feed = 'copied' | 'reused-buffer';

/** The report on `bytes` fed in chunks of `size`: each chunk a copy, or one Node Buffer refilled for every read. */
function chunked(name: string, bytes: Uint8Array, size: number, feed: Feed): ContentReport {
  const check = new ContentCheck(name, bytes.length);
  const buffer = Buffer.allocUnsafe(size);
  readAhead(check, ({ at, length }) => {
    // The read-ahead goes through the same reused buffer when it fits, as a careless caller's would.
    if (feed === 'copied' || length > size) return bytes.slice(at, at + length);
    buffer.set(bytes.subarray(at, at + length));
    return buffer.subarray(0, length);
  });
  for (let at = 0; at < bytes.length; at += size) {
    const part = bytes.subarray(at, at + size);
    if (feed === 'copied') check.push(part.slice());
    else {
      buffer.set(part);
      check.push(buffer.subarray(0, part.length));
    }
  }
  return check.finish();
}

describe('the verdict does not depend on how the bytes arrive', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-read-paths-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const made = spawnSync('python3', [MAKE_CORPUS, dir, '--no-polyglot'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const small: [string, Uint8Array][] = [
    ...readdirSync(TORCH_FIXTURES).filter((f) => f !== 'oracle.json').map((f) => [f, readFixture(f)] as [string, Uint8Array]),
    ...readdirSync(dir).filter((f) => f !== 'expected.json').map((f) => [f, new Uint8Array(readFileSync(path.join(dir, f)))] as [string, Uint8Array]),
  ];
  const large: [string, Uint8Array][] = [
    ['crafted.pt', craftedTorchArchive()],
    ['crafted.pkl', craftedRawPickle()],
    ['model-1.5m.pt', largeStateDict(1.5 * MiB, 1)],
    ['model-70m.pt', largeStateDict(70 * MiB, 2)],
  ];
  const whole = new Map([...small, ...large].map(([name, bytes]) => [name, checkContent(name, bytes)]));

  it('holds for every small file in chunks of 1 byte to 4 KiB, copied or through one reused Node Buffer', () => {
    assert.ok(small.length >= 130, `${small.length} small files`);
    // Every file at least once each way with tiny chunks, then random ones.
    for (const [name, bytes] of small) for (const feed of ['copied', 'reused-buffer'] as const) assert.deepEqual(chunked(name, bytes, 7, feed), whole.get(name), `${name}, ${feed}, chunks of 7`);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: small.length - 1 }), fc.integer({ min: 1, max: 4096 }), fc.constantFrom<Feed>('copied', 'reused-buffer'), (k, size, feed) => {
        const [name, bytes] = small[k]!;
        assert.deepEqual(chunked(name, bytes, size, feed), whole.get(name), `${name}, ${feed}, chunks of ${size}`);
      }),
      { numRuns: 400 },
    );
  });

  it('holds for the crafted files and the large torch layouts in chunks of 64 KiB and up', () => {
    assert.equal(whole.get('crafted.pt')!.verdict, 'code-capable');
    assert.equal(whole.get('crafted.pkl')!.verdict, 'code-capable');
    assert.equal(whole.get('model-1.5m.pt')!.verdict, 'allowlisted-pickle');
    assert.equal(whole.get('model-70m.pt')!.verdict, 'allowlisted-pickle');
    for (const [name, bytes] of large) assert.deepEqual(chunked(name, bytes, MiB, 'reused-buffer'), whole.get(name), `${name} as the CLI reads it`);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: large.length - 1 }), fc.integer({ min: 64 * 1024, max: 4 * MiB }), fc.constantFrom<Feed>('copied', 'reused-buffer'), (k, size, feed) => {
        const [name, bytes] = large[k]!;
        assert.deepEqual(chunked(name, bytes, size, feed), whole.get(name), `${name}, ${feed}, chunks of ${size}`);
      }),
      { numRuns: 24 },
    );
  });

  it('refuses a zip that changed between reading its directory and hashing it', () => {
    const before = readFixture('payload.pt');
    const benign = readFixture('state-dict.pt');
    const changed = (name: string, ahead: Uint8Array, hashed: Uint8Array) => {
      const check = new ContentCheck(name, ahead.length);
      readAhead(check, ({ at, length }) => ahead.subarray(at, at + length));
      check.push(hashed);
      return check.finish();
    };
    const cases: [string, Uint8Array, Uint8Array][] = [
      // The directory read from one file, the bytes hashed from another of the same size.
      ['another archive', before, (() => { const b = new Uint8Array(before.length); b.set(benign.subarray(0, before.length)); return b; })()],
      // One byte of the end records differs.
      ['an end record byte', before, (() => { const b = before.slice(); b[b.length - 5]! ^= 1; return b; })()],
      // The file grew after its directory was read.
      ['bytes appended', before, new Uint8Array([...before, 0])],
      // The file was a zip when read ahead and is not when hashed.
      ['no longer a zip', before, new Uint8Array(before.length)],
    ];
    for (const [what, ahead, hashed] of cases) {
      const report = changed('model.pt', ahead, hashed);
      assert.equal(report.verdict, 'malformed', `${what}: ${JSON.stringify(report)}`);
      assert.equal(report.findings[0]!.code, 'zip_changed_while_read', what);
    }
    // Nothing changed: the payload is named as usual.
    assert.equal(changed('model.pt', before, before).verdict, 'code-capable');
  });
});
