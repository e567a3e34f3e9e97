// The admin commands: publishers, keys, audit-verify (intact, then tampered) and rewrap, against
// the embedded database in the PGlite pass and PostgreSQL in the other. They run in this process
// on one held runtime (test/support/admin-cli.ts); rewrap runs as real processes, end to end.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { createPostgresDatabase, TEST_DB } from '../support/db.ts';
import { adminCli } from '../support/admin-cli.ts';
import { freePort, runCli } from '../support/process.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';

describe('modelsign admin keys|publisher|audit-verify|rewrap', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-admin-'));
  const kekFile = path.join(dir, 'kek');
  const newKekFile = path.join(dir, 'kek.new');
  let env: Record<string, string>;
  let dropDb: (() => Promise<void>) | undefined;
  let url: string | undefined;
  before(async () => {
    writeFileSync(kekFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    writeFileSync(newKekFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    if (TEST_DB === 'postgres') {
      const created = await createPostgresDatabase();
      url = created.url;
      dropDb = created.drop;
      env = { DATABASE_URL: url, MODELSIGN_KEK_FILE: kekFile };
    } else {
      env = { MODELSIGN_DATA_DIR: path.join(dir, 'data'), MODELSIGN_KEK_FILE: kekFile };
    }
  });
  after(async () => {
    await admin.close();
    await dropDb?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = adminCli(() => env);
  const cli = (...args: [...string[]] | [...string[], Record<string, string>]) => {
    const last = args[args.length - 1];
    return typeof last === 'object' ? admin.run(args.slice(0, -1) as string[], last) : admin.run(args as string[]);
  };
  const spawned = (...args: string[]) => runCli(args, env);
  const open = async (): Promise<Database> => (url ? openDatabase({ url, poolSize: 2 }) : openDatabase({ dataDir: path.join(dir, 'data'), poolSize: 1 }));

  it('manages publishers', async () => {
    const created = await cli('admin', 'publisher', 'create', 'acme', 'acme', 'acme-labs', '--json');
    assert.equal(created.status, 0, created.stderr);
    assert.deepEqual(JSON.parse(created.stdout).namespaces, ['acme', 'acme-labs']);
    assert.equal((await cli('admin', 'publisher', 'disable', 'acme')).status, 0);
    const listed = JSON.parse((await cli('admin', 'publisher', 'list', '--json')).stdout).items;
    assert.ok(listed[0].disabledAt);
    const renamed = await cli('admin', 'publisher', 'namespaces', 'acme', 'acme');
    assert.equal(renamed.status, 0, renamed.stderr);
    assert.match(renamed.stdout, /^acme\s+\S+\s+acme:ed25519\s+disabled/);
    const bad = await cli('admin', 'publisher', 'namespaces', 'ghost', 'x');
    assert.equal(bad.status, EXIT.refused);
    assert.match(bad.stderr, /^modelsign: no publisher "ghost"\n$/);
  });

  it('exits with the outcome of a real failure of each class, in the command\'s own process (core ERRORS)', async () => {
    // refused (7): an unknown publisher, above; auth (6): a token for a disabled publisher.
    const disabled = await cli('admin', 'token', '--role', 'publisher', '--publisher', 'acme');
    assert.equal(disabled.status, EXIT.auth, disabled.stderr);
    assert.match(disabled.stderr, /^modelsign: publisher acme is disabled\n$/);
    // service (5): the database cannot be reached.
    const down = await cli('admin', 'publisher', 'list', { DATABASE_URL: `postgresql://postgres@127.0.0.1:${await freePort()}/none` });
    assert.equal(down.status, EXIT.service, down.stderr);
    assert.equal(down.stderr.trim().split('\n').length, 1, down.stderr);
    // usage (2): a KEK that opens no key (kek_mismatch), in the rewrap test below.
  });

  it('lists, rotates and revokes keys', async () => {
    const keys = JSON.parse((await cli('admin', 'keys', 'list', '--json')).stdout).keys as { kid: string; purpose: string; alg: string; status: string }[];
    const release = keys.find((k) => k.purpose === 'release' && k.alg === 'EdDSA' && k.status === 'active')!;
    const rotated = await cli('admin', 'keys', 'rotate', 'release', '--expected-active', release.kid);
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.match(rotated.stdout, new RegExp(`rotated release: ${release.kid} retired, [0-9a-f]{64} active`));
    const stale = await cli('admin', 'keys', 'rotate', 'release', '--expected-active', release.kid);
    assert.equal(stale.status, EXIT.refused);
    assert.match(stale.stderr, /rotated meanwhile/);
    const revoked = await cli('admin', 'keys', 'revoke', release.kid, '--compromised-at', new Date().toISOString(), '--reason', 'test');
    assert.equal(revoked.status, 0, revoked.stderr);
    const twice = await cli('admin', 'keys', 'revoke', release.kid, '--compromised-at', new Date().toISOString(), '--reason', 'test');
    assert.equal(twice.status, EXIT.refused);
    assert.match(twice.stderr, /already revoked/);
    assert.equal((await cli('admin', 'keys', 'rotate', 'everything')).status, 2);
  });

  it('verifies the audit chain and names the first bad event after tampering', async () => {
    const ok = await cli('admin', 'audit-verify');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^audit chain intact: \d+ events/);
    await admin.close(); // the embedded database admits one process, and one opener in it
    const db = await open();
    try {
      await db.query('ALTER TABLE "audit_events" DISABLE TRIGGER "audit_events_append_only"');
      await db.query(`UPDATE "audit_events" SET "actor" = 'someone-else' WHERE "seq" = 2`);
      await db.query('ALTER TABLE "audit_events" ENABLE TRIGGER "audit_events_append_only"');
    } finally {
      await db.close();
    }
    const broken = await cli('admin', 'audit-verify');
    assert.equal(broken.status, EXIT.history);
    assert.match(broken.stderr, /^modelsign admin audit-verify: audit chain broken at event 2 \(id \d+\): event 2 \(id \d+\) was changed after it was sealed/);
    const json = JSON.parse((await cli('admin', 'audit-verify', '--json')).stdout);
    assert.deepEqual([json.ok, json.firstBad.seq], [false, 2]);
  });

  it('rewraps every key under a new KEK; the old one no longer opens them (real processes)', async () => {
    await admin.close();
    const res = spawned('admin', 'rewrap', '--new-kek-file', newKekFile);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^re-encrypted \d+ private keys under KEK [0-9a-f]{16}/);
    const old = spawned('admin', 'keys', 'list');
    assert.equal(old.status, EXIT.usage, 'the old KEK no longer decrypts the keys (kek_mismatch: usage)');
    assert.match(old.stderr, /^modelsign: .*(KEK|kek)/);
    env.MODELSIGN_KEK_FILE = newKekFile;
    assert.equal(spawned('admin', 'keys', 'rotate', 'log').status, 0, 'the new KEK opens and adds keys');
    assert.equal(spawned('admin', 'rewrap').status, 2);
  });
});
