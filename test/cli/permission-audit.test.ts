// The permission audit (`modelsign audit`'s first line of defence): group- and world-writable
// files and folders, a wrong owner, a writable parent and a sticky folder, made with chmod and
// chown (the suite runs as root), reported by the function and in `audit --json`.
// Runs once: no database.
// Tier: quick
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditPermissions, uidOf } from '../../src/cli/permission-audit.ts';
import { runCliAsync } from '../support/process.ts';

const root = process.getuid?.() === 0;

describe('permission audit', { skip: root ? false : 'chown needs root (the suite runs as root in CI)' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-perms-'));
  const store = path.join(dir, 'store');
  const models = path.join(store, 'models');
  const sticky = path.join(dir, 'shared');
  before(() => {
    mkdirSync(path.join(models, 'clean'), { recursive: true });
    writeFileSync(path.join(models, 'clean', 'model.safetensors'), 'x');
    mkdirSync(path.join(models, 'loose'));
    writeFileSync(path.join(models, 'loose', 'model.safetensors'), 'x');
    chmodSync(path.join(models, 'loose', 'model.safetensors'), 0o664);
    chmodSync(path.join(models, 'loose'), 0o777);
    writeFileSync(path.join(models, 'theirs.ckpt'), 'x');
    chownSync(path.join(models, 'theirs.ckpt'), 1234, 1234);
    chmodSync(store, 0o777); // anyone can rename models/ away and put another in its place
    mkdirSync(path.join(sticky, 'mine'), { recursive: true });
    mkdirSync(path.join(sticky, 'other'));
    chownSync(path.join(sticky, 'other'), 1234, 1234);
    chmodSync(sticky, 0o1777);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports each case, and nothing for what is only writable by its owner', async () => {
    const findings = await auditPermissions([models], 0);
    const of = (p: string) => findings.filter((f) => f.path === p).map((f) => f.problem).sort();
    assert.deepEqual(of(path.join(models, 'loose', 'model.safetensors')), ['group-writable']);
    assert.deepEqual(of(path.join(models, 'loose')), ['world-writable']);
    assert.deepEqual(of(path.join(models, 'theirs.ckpt')), ['owner']);
    assert.deepEqual(of(store), ['parent-writable']);
    assert.deepEqual(of(path.join(models, 'clean')), []);
    assert.deepEqual(of(dir), [], 'a folder only root can write');
    assert.equal(findings.length, 4, JSON.stringify(findings, null, 1));
  });

  it('judges a sticky folder by the owner of the entry below it', async () => {
    assert.deepEqual(await auditPermissions([path.join(sticky, 'mine')], 0), []);
    const other = await auditPermissions([path.join(sticky, 'other')], 0);
    assert.deepEqual(other.map((f) => [f.path, f.problem]), [[path.join(sticky, 'other'), 'owner'], [path.join(sticky, 'other'), 'parent-writable']]);
  });

  it('takes --owner as a user name or a uid', async () => {
    assert.equal(await uidOf('alice', async () => 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n'), 1000);
    assert.equal(await uidOf('1234', async () => ''), 1234);
    assert.equal(await uidOf('nobody-here', async () => 'root:x:0:0::/root:/bin/sh\n'), undefined);
  });

  it('lists the findings in `audit --json`, and names them in the text output', async () => {
    const pem = path.join(dir, 'key.pem');
    writeFileSync(pem, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const json = await runCliAsync(['audit', models, '--key', pem, '--json']);
    const report = JSON.parse(json.stdout);
    assert.deepEqual(report.permissions.map((p: { problem: string }) => p.problem).sort(), ['group-writable', 'owner', 'parent-writable', 'world-writable']);
    const text = await runCliAsync(['audit', models, '--key', pem, '--owner', '1234']);
    assert.match(text.stdout, /permission findings/);
    assert.match(text.stderr, /permissions: .*clean.* owned by uid 0, not 1234/);
  });
});
