// The content check end to end: one corpus Python writes (test/fixtures/scan/make_corpus.py:
// benign state dicts, Lightning, safetensors of every dtype; every code-execution trick; every
// malformed safetensors case and a 67 MB safetensors/zip polyglot) gets the same verdicts from
// the TypeScript checker (whole and in chunks), `modelsign scan --json` and the Python package's
// checker (modelsign_verify.scan, which the Python guard refuses by);
// `sign` refuses unsafe files, `verify` and `audit` fail on them unless --allow-unsafe-content,
// and a release signed without a content check is reported as unchecked.
// Runs once: its subject is the client commands; the service's storage is tested in both passes elsewhere.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { checkContent, ContentCheck, readAhead } from '../../src/core/scan/classify.ts';
import { CONTENT_CLAIM_KEY } from '../../src/core/content-claim.ts';
import { ALLOWLIST_TORCH_VERSION } from '../../src/core/scan/pickle/allowlist.ts';
import { fromBase64 } from '../../src/core/bytes.ts';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { runCliAsync } from '../support/process.ts';
import { pythonPackage } from '../support/python.ts';

const MAKE_CORPUS = fileURLToPath(new URL('../fixtures/scan/make_corpus.py', import.meta.url));
const pkg = pythonPackage();

interface Expected {
  file: string;
  verdict: string;
  names?: string;
}

const UNSAFE = new Set(['code-capable', 'malformed']);

function statementOf(bundleFile: string): Record<string, unknown> {
  const bundle = JSON.parse(readFileSync(bundleFile, 'utf8'));
  return JSON.parse(Buffer.from(fromBase64(bundle.dsseEnvelope.payload)!).toString('utf8'));
}

describe('the content check in the commands', () => {
  let t: TestApp;
  let server: string;
  let env: Record<string, string>;
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-content-'));
  const corpus = path.join(dir, 'corpus');
  let expected: Expected[];
  let jwks: string;
  const cli = (...args: string[]) => runCliAsync(args, env);

  before(async () => {
    const made = spawnSync('python3', [MAKE_CORPUS, corpus], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    expected = JSON.parse(readFileSync(path.join(corpus, 'expected.json'), 'utf8'));
    rmSync(path.join(corpus, 'expected.json'));
    t = await createTestApp();
    server = await listenTestApp(t);
    env = { MODELSIGN_SERVER: server, MODELSIGN_TOKEN: await t.publisherToken('acme') };
    jwks = path.join(dir, 'keys.json');
    writeFileSync(jwks, (await t.app.inject({ url: '/v1/keys' })).body);
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives every corpus file its expected verdict in the checker, whole and in chunks as hashing reads it', () => {
    assert.ok(expected.length >= 38, `the corpus has ${expected.length} files`);
    for (const e of expected) {
      const bytes = new Uint8Array(readFileSync(path.join(corpus, e.file)));
      const whole = checkContent(e.file, bytes);
      assert.equal(whole.verdict, e.verdict, `${e.file}: ${JSON.stringify(whole.findings)}`);
      if (e.names) assert.ok(whole.findings.some((f) => f.message.includes(e.names!)), `${e.file} names ${e.names}: ${JSON.stringify(whole.findings)}`);
      // Small files in tiny chunks (every opcode, header and zip record split); the polyglot in 1 MiB ones.
      for (const size of bytes.length > 1_000_000 ? [1 << 20, 65_521] : [1, 7, 4096]) {
        const check = new ContentCheck(e.file, bytes.length);
        readAhead(check, ({ at, length }) => bytes.subarray(at, at + length));
        for (let i = 0; i < bytes.length; i += size) check.push(bytes.subarray(i, i + size));
        assert.deepEqual(check.finish(), whole, `${e.file} in chunks of ${size}`);
      }
    }
  });

  it('gives the same verdicts through `modelsign scan --json` and the Python package, with exit 8 when anything is unsafe', async () => {
    const scanned = await cli('scan', corpus, '--json');
    assert.equal(scanned.status, EXIT.unsafe, scanned.stderr);
    const report = JSON.parse(scanned.stdout);
    assert.equal(report.ok, false);
    const byPath = new Map<string, { verdict: string; sha256: string; findings: { message: string }[] }>(report.files.map((f: { path: string }) => [f.path, f]));
    for (const e of expected) {
      const got = byPath.get(e.file);
      assert.equal(got?.verdict, e.verdict, e.file);
      if (e.names) assert.ok(got!.findings.some((f) => f.message.includes(e.names!)), e.file);
    }
    assert.ok(pkg, 'python3 with cryptography (for the Python package)');
    // The Python package's own path, in pure Python: the check in the hashing pass, then the reason the guard and verify refuse with.
    const program = `
import json, sys
from modelsign_verify.files import DEFAULT_IGNORE_PATHS, list_model
from modelsign_verify.hashing import hash_and_check_files
from modelsign_verify.model import content_reason
listing = list_model(sys.argv[1], False, list(DEFAULT_IGNORE_PATHS))
out = {}
for f, (_, report) in zip(listing.files, hash_and_check_files(listing.files, progress=None)):
    problem = content_reason(f.path, report) if report.unsafe else None
    out[f.path] = {"verdict": report.verdict, "refused": problem.code if problem else None, "message": problem.message if problem else ""}
print(json.dumps(out))`;
    const guard = spawnSync(pkg.python, ['-c', program, corpus], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...pkg.env } });
    assert.equal(guard.status, 0, guard.stderr);
    const verdicts = JSON.parse(guard.stdout) as Record<string, { verdict: string; refused: string | null; message: string }>;
    for (const e of expected) {
      const got = verdicts[e.file]!;
      assert.equal(got.verdict, e.verdict, `guard: ${e.file}`);
      assert.equal(got.refused, UNSAFE.has(e.verdict) ? `content_${e.verdict.replace('-', '_')}` : null, `guard refuses ${e.file}`);
      if (e.names) assert.ok(got.message.includes(e.names), `guard names ${e.names} for ${e.file}`);
    }
  });

  it('sign refuses unsafe files before anything is sent, naming each, with exit 8', async () => {
    const before = (await t.app.inject({ url: '/v1/signatures?model=acme/corpus' })).json().items.length;
    const folder = await cli('sign', corpus, '--model', 'acme/corpus', '--version', '1.0');
    assert.equal(folder.status, EXIT.unsafe, folder.stderr);
    for (const e of expected.filter((x) => UNSAFE.has(x.verdict))) assert.ok(folder.stderr.includes(e.file), `${e.file} named`);
    for (const e of expected.filter((x) => !UNSAFE.has(x.verdict))) assert.ok(!folder.stderr.includes(`  ${e.verdict}  ${e.file}`), `${e.file} not named`);
    assert.equal((await t.app.inject({ url: '/v1/signatures?model=acme/corpus' })).json().items.length, before, 'nothing was signed');
    const one = await cli('sign', path.join(corpus, 'inst.pkl'), '--model', 'acme/inst', '--version', '1.0');
    assert.equal(one.status, EXIT.unsafe);
    assert.match(one.stderr, /refusing to sign acme\/inst@1\.0: 1 file can run code when loaded.*\n {2}code-capable {2}inst\.pkl \(pickle\): pickle_unsafe_global: can run code when loaded: os\.system/);
  });

  it('records each verdict in the signed statement; verify and audit fail on unsafe content unless --allow-unsafe-content', async () => {
    const store = path.join(dir, 'store');
    const model = path.join(store, 'sd15');
    mkdirSync(model, { recursive: true });
    for (const f of ['state_dict.pt', 'every_dtype.safetensors', 'config.json', 'lightning.ckpt']) copyFileSync(path.join(corpus, f), path.join(model, f));
    const signed = await cli('sign', model, '--model', 'acme/sd15', '--version', '1.0');
    assert.equal(signed.status, 0, signed.stderr);
    const claim = statementOf(path.join(model, 'model.sig')).predicate as Record<string, { checker: string; allowlist: string; torch: string; files: { name: string; verdict: string }[] }>;
    assert.equal(claim[CONTENT_CLAIM_KEY]!.torch, ALLOWLIST_TORCH_VERSION, 'the claim names the torch release of the allowlist');
    assert.deepEqual(
      claim[CONTENT_CLAIM_KEY]!.files.map((f) => [f.name, f.verdict]),
      [['config.json', 'unknown'], ['every_dtype.safetensors', 'data-only'], ['lightning.ckpt', 'allowlisted-pickle'], ['state_dict.pt', 'allowlisted-pickle']],
    );
    const ok = await cli('verify', model, '--keys', jwks);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /content: 1 unknown, 1 data-only, 2 allowlisted-pickle; checked when signed \(modelsign-scan, allowlist \d{4}-\d{2}-\d{2}, torch \d+\.\d+\.\d+[^)]*\)/);

    // A release with a payload, signed on purpose (the verdicts recorded), then checked by loaders.
    const evil = path.join(store, 'evil');
    mkdirSync(evil);
    copyFileSync(path.join(corpus, 'evil_state_dict.pt'), path.join(evil, 'model.pt'));
    copyFileSync(path.join(corpus, 'every_dtype.safetensors'), path.join(evil, 'model.safetensors'));
    const allowed = await cli('sign', evil, '--model', 'acme/evil', '--version', '1.0', '--allow-unsafe-content');
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stderr, /signing with unsafe content.*\n {2}code-capable {2}model\.pt/);
    const files = (statementOf(path.join(evil, 'model.sig')).predicate as Record<string, { files: { name: string; verdict: string }[] }>)[CONTENT_CLAIM_KEY]!.files;
    assert.deepEqual(files.find((f) => f.name === 'model.pt')?.verdict, 'code-capable');

    const refused = await cli('verify', evil, '--keys', jwks, '--json');
    assert.equal(refused.status, EXIT.unsafe, refused.stderr);
    const report = JSON.parse(refused.stdout);
    assert.equal(report.outcome, 'unsafe');
    assert.deepEqual(report.reasons.map((r: { code: string; path: string }) => [r.code, r.path]), [['content_code_capable', 'model.pt']]);
    const text = await cli('verify', evil, '--keys', jwks);
    assert.match(text.stderr, /^unsafe: .*\n {2}content_code_capable model\.pt: code-capable {2}model\.pt \(pytorch-zip\): .*posix\.system/);
    const accepted = await cli('verify', evil, '--keys', jwks, '--allow-unsafe-content');
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.match(accepted.stdout, /allowed by --allow-unsafe-content: code-capable {2}model\.pt/);

    const audit = await cli('audit', store, '--keys', jwks, '--json');
    assert.equal(audit.status, EXIT.unsafe, audit.stderr);
    assert.deepEqual(JSON.parse(audit.stdout).summary, { models: 2, verified: 1, tampered: 0, unsafe: 1, unsigned: 0, untrusted: 0, errors: 0 });
    assert.equal((await cli('audit', store, '--keys', jwks, '--allow-unsafe-content')).status, 0);

    // Tampering outranks unsafe content: a changed file is not what was signed at all.
    writeFileSync(path.join(evil, 'model.safetensors'), 'x');
    assert.equal((await cli('verify', evil, '--keys', jwks)).status, EXIT.tampered);
  });

  it('reports a release signed without a content check (an older client) as unchecked, and still checks its content', async () => {
    const model = path.join(dir, 'old');
    mkdirSync(model);
    copyFileSync(path.join(corpus, 'tensors.pkl'), path.join(model, 'weights.pkl'));
    const hashed = JSON.parse((await cli('hash', model, '--json')).stdout);
    // What a 0.1 client sent: the manifest alone.
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/signatures',
      headers: { authorization: `Bearer ${env.MODELSIGN_TOKEN}` },
      payload: { model: 'acme/old', version: '1.0', ignorePaths: hashed.ignorePaths, files: hashed.files.map((f: { path: string; sha256: string; size: number }) => ({ path: f.path, sha256: f.sha256, size: f.size })) },
    });
    assert.equal(res.statusCode, 201, res.body);
    writeFileSync(path.join(model, 'model.sig'), JSON.stringify(res.json().bundle));
    assert.equal((statementOf(path.join(model, 'model.sig')).predicate as Record<string, unknown>)[CONTENT_CLAIM_KEY], undefined);
    const verified = await cli('verify', model, '--keys', jwks);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /content: 1 allowlisted-pickle; the release was signed without a content check/);
    const json = JSON.parse((await cli('verify', model, '--keys', jwks, '--json')).stdout);
    assert.equal(json.signedContentCheck, 'unchecked');
    assert.deepEqual(json.content.map((c: { path: string; verdict: string }) => [c.path, c.verdict]), [['weights.pkl', 'allowlisted-pickle']]);
  });

  it('refuses a content check that names a file outside the manifest (invalid_content_check)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/signatures',
      headers: { authorization: `Bearer ${env.MODELSIGN_TOKEN}` },
      payload: {
        model: 'acme/claims',
        version: '1.0',
        files: [{ path: 'a.bin', sha256: 'a'.repeat(64), size: 1 }],
        contentCheck: { checker: 'modelsign-scan', allowlist: '2026-11-28', files: [{ name: 'b.bin', verdict: 'data-only' }] },
      },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'invalid_content_check');
    assert.match(res.json().detail, /"b\.bin", which is not in the manifest/);
  });

  it('hash names unsafe files on stderr and keeps its exit code and stdout format', async () => {
    const res = await cli('hash', path.join(corpus, 'eval.pkl'));
    assert.equal(res.status, 0);
    assert.match(res.stdout, /^[0-9a-f]{64} {2}eval\.pkl\n/);
    assert.match(res.stderr, /content: code-capable {2}eval\.pkl \(pickle\): .*builtins\.eval/);
    assert.ok(statSync(path.join(corpus, 'eval.pkl')).isFile());
    assert.ok(readdirSync(corpus).length >= 38);
  });
});
