// Hugging Face cache snapshots: a snapshot laid out the way huggingface_hub lays it out
// (relative links into the repository's blobs/, nested folders, sha256 and git-sha1 blob names)
// signs and verifies; the same files copied as plain files and as an `hf download --local-dir`
// folder verify with the same bundle; a link to another repository's blob, outside the cache, to
// a folder, or through another link is refused, naming the link.
// Runs once: its subject is the client commands; the service's storage is tested in both passes elsewhere.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromBase64 } from '../../src/core/bytes.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { runCliAsync } from '../support/process.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

function safetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }).padEnd(64, ' '));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, Buffer.alloc(16, 1)]);
}

/** A hub cache repository folder with blobs and one snapshot; returns the snapshot's path. */
function hubRepository(hub: string, repo: string, files: Record<string, Buffer>, revision = 'a'.repeat(40)): string {
  const root = path.join(hub, repo);
  const snapshot = path.join(root, 'snapshots', revision);
  mkdirSync(path.join(root, 'blobs'), { recursive: true });
  mkdirSync(path.join(root, 'refs'), { recursive: true });
  writeFileSync(path.join(root, 'refs', 'main'), revision);
  for (const [name, bytes] of Object.entries(files)) {
    // LFS files are named by their sha256, plain git files by their git blob sha1 (huggingface_hub's etags).
    const blob = name.endsWith('.json') ? gitSha1(bytes) : sha256(bytes);
    writeFileSync(path.join(root, 'blobs', blob), bytes);
    const link = path.join(snapshot, name);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(path.relative(path.dirname(link), path.join(root, 'blobs', blob)), link);
  }
  return snapshot;
}

describe('Hugging Face cache snapshots', () => {
  let t: TestApp;
  let env: Record<string, string>;
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-hf-'));
  const hub = path.join(dir, 'hub');
  const files = {
    'config.json': Buffer.from('{"_class_name": "UNet2DConditionModel"}\n'),
    'model_index.json': Buffer.from('{"unet": ["diffusers", "UNet2DConditionModel"]}\n'),
    'unet/diffusion_pytorch_model.safetensors': safetensors(),
    'text_encoder/nested/model.safetensors': safetensors().fill(2, 72),
  };
  let snapshot: string;
  let jwks: string;
  const cli = (...args: string[]) => runCliAsync(args, env);

  before(async () => {
    t = await createTestApp();
    const server = await listenTestApp(t);
    env = { MODELSIGN_SERVER: server, MODELSIGN_TOKEN: await t.publisherToken('acme') };
    jwks = path.join(dir, 'keys.json');
    writeFileSync(jwks, (await t.app.inject({ url: '/v1/keys' })).body);
    snapshot = hubRepository(hub, 'models--acme--tiny', files);
    hubRepository(hub, 'models--other--model', { 'other.safetensors': safetensors().fill(9, 72) }, 'b'.repeat(40));
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs and verifies a snapshot, naming files by their link paths and saying it read a snapshot', async () => {
    const hashed = await cli('hash', snapshot, '--json');
    assert.equal(hashed.status, 0, hashed.stderr);
    const manifest = JSON.parse(hashed.stdout);
    assert.equal(manifest.layout, 'hf-snapshot');
    assert.deepEqual(manifest.files.map((f: { path: string; sha256: string }) => [f.path, f.sha256]), Object.entries(files).map(([p, b]) => [p, sha256(b)]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
    assert.ok(manifest.ignorePaths.includes('.cache/huggingface'));

    const signed = await cli('sign', snapshot, '--model', 'acme/tiny', '--version', '1.0');
    assert.equal(signed.status, 0, signed.stderr);
    assert.match(signed.stderr, /Hugging Face cache snapshot of models--acme--tiny: links followed only into its blobs\//);
    const statement = JSON.parse(Buffer.from(fromBase64(JSON.parse(readFileSync(path.join(snapshot, 'model.sig'), 'utf8')).dsseEnvelope.payload)!).toString());
    assert.equal(statement.predicate.serialization.allow_symlinks, true, 'the signed tree had links, and says so');

    const verified = await cli('verify', snapshot, '--keys', jwks);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stderr, /Hugging Face cache snapshot/);
    assert.equal((await cli('audit', snapshot, '--keys', jwks)).status, 0);
  });

  it('verifies the same files copied as plain files (Windows, no symlinks) and as a --local-dir download with the same bundle', async () => {
    const bundle = path.join(snapshot, 'model.sig');
    const copied = path.join(dir, 'copied', 'snapshots', 'c'.repeat(40));
    cpSync(snapshot, copied, { recursive: true, dereference: true });
    const plain = await cli('verify', copied, '--keys', jwks, '--bundle', bundle);
    assert.equal(plain.status, 0, plain.stderr);

    const local = path.join(dir, 'local-dir');
    cpSync(snapshot, local, { recursive: true, dereference: true });
    mkdirSync(path.join(local, '.cache', 'huggingface', 'download', 'unet'), { recursive: true });
    writeFileSync(path.join(local, '.cache', 'huggingface', 'download', 'unet', 'diffusion_pytorch_model.safetensors.metadata'), `${'a'.repeat(40)}\netag\n${Date.now()}\n`);
    writeFileSync(path.join(local, '.cache', 'huggingface', '.gitignore'), '*\n');
    const json = await cli('verify', local, '--keys', jwks, '--bundle', bundle, '--json');
    assert.equal(json.status, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).layout, 'hf-local-dir');
  });

  const refusals: [string, (snapshot: string, repo: string) => string, RegExp][] = [
    ['a link to a blob of another repository', (s) => (symlinkSync('../../../models--other--model/blobs/' + sha256(safetensors().fill(9, 72)), path.join(s, 'stolen.safetensors')), 'stolen.safetensors'), /not a blob of this repository/],
    ['a link to a file outside the cache', (s) => {
      const outside = path.join(path.dirname(hub), 'outside.txt');
      writeFileSync(outside, 'not in the cache\n');
      symlinkSync(outside, path.join(s, 'outside.txt'));
      return 'outside.txt';
    }, /not a blob of this repository/],
    ['a link to a folder', (s, repo) => {
      mkdirSync(path.join(repo, 'blobs', 'f'.repeat(64)));
      symlinkSync(`../../blobs/${'f'.repeat(64)}`, path.join(s, 'folder'));
      return 'folder';
    }, /which is not a regular file/],
    ['a chain of links (a link to another link of the snapshot)', (s) => (symlinkSync('config.json', path.join(s, 'again.json')), 'again.json'), /not a blob of this repository/],
    ['a chain of links (a blob that is itself a link)', (s, repo) => {
      symlinkSync(path.join(repo, 'blobs', gitSha1(files['config.json'])), path.join(repo, 'blobs', 'e'.repeat(64)));
      symlinkSync(`../../blobs/${'e'.repeat(64)}`, path.join(s, 'chained.txt'));
      return 'chained.txt';
    }, /itself a link: a chain of links is refused/],
  ];
  for (const [what, make, message] of refusals) {
    it(`refuses ${what}, naming the link`, async () => {
      const repo = path.join(hub, `models--acme--${what.replace(/\W+/g, '-')}`);
      const s = hubRepository(hub, path.basename(repo), { 'config.json': files['config.json'] });
      const link = make(s, repo);
      for (const command of [['hash', s], ['sign', s, '--model', 'acme/x', '--version', '1.0']]) {
        const res = await cli(...command);
        assert.equal(res.status, EXIT.io, `${command[0]}: ${res.stderr}`);
        assert.match(res.stderr, new RegExp(`modelsign: "${link}" `));
        assert.match(res.stderr, message);
      }
    });
  }
});
