// The content check through the commands' own read path (one reused 1 MiB buffer, as
// cli/hash-share.ts reads): the two files crafted against a checker that kept views of that
// buffer (both scanned as allowlisted-pickle, exit 0, on cf482d2) are code-capable through
// `modelsign scan` and refused by `sign`; a payload raw or zipped, under every name a loader
// opens and none, with bytes after it or not, is code-capable; a README that begins "N.B." (a
// valid pickle followed by text) stays unknown.
// Runs once: its subject is the client commands; the service's storage is tested in both passes elsewhere.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { craftedRawPickle, craftedTorchArchive, readFixture } from '../support/crafted-content.ts';
import { runCliAsync } from '../support/process.ts';

const NAMES = ['.pkl', '.pickle', '.pth', '.pth.tar', '.pt', '.bin', '.ckpt', '.joblib', '.npy', '.npz', ''];

interface Scanned {
  path: string;
  verdict: string;
  findings: { code: string; message: string }[];
}

describe('crafted files through the commands', () => {
  let t: TestApp;
  let env: Record<string, string>;
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-crafted-'));
  const cli = (...args: string[]) => runCliAsync(args, env);
  const scanFolder = async (folder: string) => {
    const res = await cli('scan', folder, '--json');
    return { status: res.status, stderr: res.stderr, files: new Map((JSON.parse(res.stdout).files as Scanned[]).map((f) => [f.path, f])) };
  };

  before(async () => {
    t = await createTestApp();
    env = { MODELSIGN_SERVER: await listenTestApp(t), MODELSIGN_TOKEN: await t.publisherToken('acme') };
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the payload of the crafted torch archive and of the crafted raw pickle, and sign refuses them', async () => {
    const folder = path.join(dir, 'crafted');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'model.pt'), craftedTorchArchive());
    writeFileSync(path.join(folder, 'weights.pkl'), craftedRawPickle());
    const scanned = await scanFolder(folder);
    assert.equal(scanned.status, EXIT.unsafe, scanned.stderr);
    for (const name of ['model.pt', 'weights.pkl']) {
      const f = scanned.files.get(name)!;
      assert.equal(f.verdict, 'code-capable', `${name}: ${JSON.stringify(f)}`);
      assert.ok(f.findings.some((x) => x.message.includes('posix.system')), `${name} names posix.system`);
      assert.ok(!f.findings.some((x) => x.message.includes('builtins.set')), `${name}: the decoy is not what was read`);
    }
    const signed = await cli('sign', folder, '--model', 'acme/crafted', '--version', '1.0');
    assert.equal(signed.status, EXIT.unsafe, signed.stderr);
    assert.match(signed.stderr, /code-capable {2}model\.pt \(pytorch-zip\): pickle_unsafe_global: .*posix\.system/);
    assert.match(signed.stderr, /code-capable {2}weights\.pkl \(pickle\): pickle_unsafe_global: .*posix\.system/);
    assert.equal((await t.app.inject({ url: '/v1/signatures?model=acme/crafted' })).json().items.length, 0, 'nothing was signed');
  });

  it('calls a payload code-capable raw or zipped, under every name a loader opens and none, with bytes after it or not', async () => {
    const folder = path.join(dir, 'names');
    mkdirSync(folder);
    const raw = readFixture('raw-payload.pkl'); // pickle.dumps of a posix.system payload
    const zipped = readFixture('payload.pt'); // torch.save of a state dict holding one
    const trailing = new TextEncoder().encode('\n# bytes after the pickle or the archive\n');
    const made: string[] = [];
    for (const ext of NAMES) {
      for (const [kind, bytes] of [['raw', raw], ['zipped', zipped]] as const) {
        for (const tail of [false, true]) {
          const name = `${kind}${tail ? '-trailing' : ''}${ext}`;
          writeFileSync(path.join(folder, name), tail ? Buffer.concat([bytes, trailing]) : bytes);
          made.push(name);
        }
      }
    }
    writeFileSync(path.join(folder, 'README.md'), 'N.B. this README begins like a pickle: NONE, then STOP.\n');
    const scanned = await scanFolder(folder);
    assert.equal(scanned.files.size, made.length + 1);
    for (const name of made) {
      const f = scanned.files.get(name)!;
      assert.equal(f.verdict, 'code-capable', `${name}: ${JSON.stringify(f)}`);
      assert.ok(f.findings.some((x) => x.code === 'pickle_unsafe_global' && x.message.includes('posix.system')), name);
      if (name.startsWith('raw-trailing')) assert.ok(f.findings.some((x) => x.code === 'pickle_trailing_bytes'), `${name}: the trailing bytes are a finding`);
      if (name.startsWith('zipped-trailing')) assert.ok(f.findings.some((x) => /bytes after the end-of-central-directory record/.test(x.message)), `${name}: the appended bytes are a finding`);
    }
    assert.equal(scanned.files.get('README.md')!.verdict, 'unknown');
  });
});
