import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bytesToHex, fromBase64, fromBase64Url, toBase64, toBase64Url } from '../../src/core/bytes.ts';

const BYTES = fileURLToPath(new URL('../../src/core/bytes.ts', import.meta.url));

// Valid encodings of every length to 70 and each of them bent: a character replaced by one that
// is not base64, is padding or is another base64 character; cut short; padded again.
function base64Corpus(): string[] {
  const texts: string[] = [];
  for (let n = 0; n <= 70; n++) {
    const text = Buffer.from(Uint8Array.from({ length: n }, (_, i) => (i * 151 + n * 7) & 0xff)).toString('base64');
    texts.push(text, text.slice(0, -1), `${text}=`, `${text}==`, ` ${text}`, `${text}\n`);
    for (let i = 0; i < text.length; i += 3) {
      for (const c of ['-', '_', '=', ' ', '\n', 'A', '/', '+', '\u00e9', '.']) texts.push(text.slice(0, i) + c + text.slice(i + 1));
    }
  }
  return texts;
}

describe('base64', () => {
  it('round-trips every length from 0 to 70', () => {
    for (let n = 0; n <= 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      assert.equal(toBase64(bytes), Buffer.from(bytes).toString('base64'));
      assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
      assert.equal(toBase64Url(bytes), Buffer.from(bytes).toString('base64url'));
      assert.deepEqual(fromBase64Url(toBase64Url(bytes)), bytes);
    }
  });

  it('refuses non-canonical and malformed text', () => {
    assert.equal(fromBase64('QQ='), undefined, 'bad padding');
    assert.equal(fromBase64('QR=='), undefined, 'non-zero padding bits');
    assert.equal(fromBase64('QQ== '), undefined, 'whitespace');
    assert.equal(fromBase64('Q-=='), undefined, 'url alphabet in standard base64');
    assert.equal(fromBase64Url('QR'), undefined, 'non-zero padding bits in base64url');
    assert.equal(fromBase64Url('Q'), undefined, 'impossible length');
    assert.deepEqual(fromBase64('QQ=='), new Uint8Array([0x41]));
  });

  it('decodes alike with and without Node\'s Buffer (the console and the portable verifier have none)', () => {
    const texts = base64Corpus();
    const here = texts.map((t) => fromBase64(t)).map((b) => (b === undefined ? null : bytesToHex(b)));
    // The module loaded again in a process whose Buffer is removed first: its portable path.
    const script = `const texts = JSON.parse((await import('node:fs')).readFileSync(0, 'utf8')); delete globalThis.Buffer; const { fromBase64, bytesToHex } = await import(${JSON.stringify(BYTES)}); process.stdout.write(JSON.stringify(texts.map((t) => fromBase64(t)).map((b) => (b === undefined ? null : bytesToHex(b)))));`;
    const portable = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { input: JSON.stringify(texts), encoding: 'utf8' })) as (string | null)[];
    assert.equal(portable.length, texts.length);
    const differ = texts.filter((_, i) => portable[i] !== here[i]);
    assert.deepEqual(differ, [], 'texts the two decoders judge differently');
    // The corpus holds both kinds, so agreement is not agreement on refusing everything.
    assert.ok(here.filter((h) => h !== null).length > 200 && here.filter((h) => h === null).length > 1000, `${here.filter((h) => h !== null).length} accepted`);
  });
});
