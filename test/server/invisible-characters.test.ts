// Names that display as other names ("Trojan Source" for file names): one code point from each
// range the issue lists, in a manifest path and in an ignore path, is refused with the code point
// named and nothing stored; the ASCII-only names name the offending code point the same way; a
// bundle signed before the rule (made here without it) gets a stable reason from the verifier;
// the CLI refuses such a folder and prints names escaped.
// Runs once: the refusals happen in validation, before any storage; the storage engines are tested elsewhere.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildBundle } from '../../src/core/bundle.ts';
import { ed25519Sign } from '../../src/core/crypto/ed25519.ts';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from '../../src/core/dsse.ts';
import { compareCodePoints, rootDigest } from '../../src/core/manifest.ts';
import { subjectName } from '../../src/core/release-name.ts';
import { buildStatement, encodeStatement } from '../../src/core/statement.ts';
import { escapeName, printableName } from '../../src/core/unicode.ts';
import { verifyBundle } from '../../src/core/verify-bundle.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { testSigner } from '../support/bundles.ts';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';
import { runCliAsync } from '../support/process.ts';
import { INVISIBLE_CODE_POINTS } from '../support/unicode.ts';

const label = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

describe('invisible and bidirectional characters', () => {
  let t: TestApp;
  let token: string;
  before(async () => {
    t = await createTestApp();
    token = await t.publisherToken('acme');
  });
  after(() => t.close());

  const sign = (payload: object) => t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload });
  const stored = async () => (await t.app.inject({ url: '/v1/signatures?model=acme/m&limit=100' })).json().items.length as number;

  it('in a manifest path: 400 invisible_character naming the code point, nothing stored', async () => {
    for (const cp of INVISIBLE_CODE_POINTS) {
      const name = `model${String.fromCodePoint(cp)}.safetensors`;
      const res = await sign({ model: 'acme/m', version: `p${cp}`, files: [{ path: name, sha256: sha('a'), size: 1 }] });
      assert.equal(res.statusCode, 400, `${label(cp)}: ${res.body}`);
      const body = res.json();
      assert.equal(body.code, 'invisible_character', label(cp));
      assert.match(body.detail, new RegExp(label(cp).replace('+', '\\+')), label(cp));
      assert.deepEqual(body.errors[0].codePoints, [label(cp)]);
      assert.equal(body.errors[0].path, 'files[0].path');
    }
    assert.equal(await stored(), 0);
  });

  it('in an ignore path: the same, nothing stored', async () => {
    for (const cp of INVISIBLE_CODE_POINTS) {
      const res = await sign({ model: 'acme/m', version: `i${cp}`, files: [{ path: 'w.bin', sha256: sha('a'), size: 1 }], ignorePaths: [`.git${String.fromCodePoint(cp)}`] });
      assert.equal(res.statusCode, 400, label(cp));
      assert.equal(res.json().code, 'invisible_character');
      assert.deepEqual(res.json().errors[0].codePoints, [label(cp)]);
      assert.equal(res.json().errors[0].path, 'ignorePaths[0]');
    }
    assert.equal(await stored(), 0);
  });

  it('wins over other path problems in the same request, and names every code point once', async () => {
    const res = await sign({
      model: 'acme/m',
      version: 'mixed',
      files: [
        { path: '../x', sha256: sha('a'), size: 1 },
        { path: 'a\u202eb\u200bc\u202e', sha256: sha('b'), size: 1 },
      ],
    });
    assert.equal(res.json().code, 'invisible_character');
    assert.match(res.json().detail, /U\+202E, U\+200B/);
  });

  it('in the ASCII-only names: the error names the offending code point', async () => {
    const model = await sign({ model: 'acme/m\u202e', version: '1.0', files: [{ path: 'w.bin', sha256: sha('a'), size: 1 }] });
    assert.deepEqual([model.statusCode, model.json().code], [400, 'invalid_model_name']);
    assert.match(model.json().detail, /U\+202E is not allowed/);
    assert.match(model.json().detail, /\\u\{202E\}/, 'the name is shown escaped');
    const version = await sign({ model: 'acme/m', version: '1.0\u3164', files: [{ path: 'w.bin', sha256: sha('a'), size: 1 }] });
    assert.deepEqual([version.statusCode, version.json().code], [400, 'invalid_version']);
    assert.match(version.json().detail, /U\+3164 is not allowed/);
    const admin = await t.adminToken();
    const publisher = await t.app.inject({ method: 'POST', url: '/v1/admin/publishers', headers: bearer(admin), payload: { name: 'evil', namespaces: ['ev\u200bil'] } });
    assert.equal(publisher.statusCode, 400);
    assert.match(publisher.json().detail + JSON.stringify(publisher.json().errors), /U\+200B is not allowed/);
    assert.equal(await stored(), 0);
  });

  it('a bundle signed before the rule: the verifier names the character with a stable reason, online and offline', async () => {
    const signer = testSigner(9);
    const name = 'weights\u202Efni.bin';
    const files = [{ path: name, sha256: sha('c') }].sort((a, b) => compareCodePoints(a.path, b.path));
    // Made by hand, as a signer before this change would have: buildManifest now refuses it.
    const payload = encodeStatement(buildStatement(subjectName('acme/old', '1.0'), { files, ignorePaths: [], rootDigest: rootDigest(files.map((f) => f.sha256)) }));
    const bundle = buildBundle({ payload, signature: ed25519Sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload), new Uint8Array(32).fill(9)), kid: signer.kid });
    const offline = verifyBundle(bundle, { resolveKey: (kid) => (kid === signer.kid ? signer.trusted : undefined), requireTlog: false });
    assert.equal(offline.valid, false);
    assert.deepEqual(offline.reasons.map((r) => r.code), ['invisible_character']);
    assert.match(offline.reasons[0]!.message, /U\+202E/);
    const online = (await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle } })).json();
    assert.ok(online.reasons.some((r: { code: string }) => r.code === 'invisible_character'));
  });

  it('escapes names for printing', () => {
    assert.equal(escapeName('a\u202Eb"c\\'), '"a\\u{202E}b\\"c\\\\"');
    assert.equal(escapeName('\u0000\u{E0001}'), '"\\u{0}\\u{E0001}"');
    assert.equal(printableName('plain/name é.bin'), 'plain/name é.bin');
    assert.equal(printableName('x\u200By'), '"x\\u{200B}y"');
  });
});

describe('the CLI and invisible file names', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-invisible-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('hash and sign refuse a folder holding such a name, printing it escaped', async () => {
    const folder = path.join(dir, 'model');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'config.json'), '{}');
    writeFileSync(path.join(folder, 'model\u202Ecod.safetensors'), 'x');
    for (const args of [['hash', folder], ['sign', folder, '--model', 'acme/m', '--version', '1.0', '--server', 'http://127.0.0.1:9', '--token', 'x.y.z']]) {
      const res = await runCliAsync(args);
      assert.equal(res.status, EXIT.io, `${args[0]}: ${res.stderr}`);
      assert.match(res.stderr, /model\\u\{202E\}cod\.safetensors/, res.stderr);
      assert.match(res.stderr, /U\+202E/);
      assert.doesNotMatch(res.stderr, /\u202E/, 'the raw character never reaches the terminal');
    }
  });
});
