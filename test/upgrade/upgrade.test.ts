// A database made by modelsign 0.1 (test/upgrade/fixtures/v0.1, made by make-fixture.ts with that
// version's own migrations and code) upgrades in place: its signatures keep their first-format
// log entries and their bundles verify online, offline, with the CLI and the Python guard; the
// log stays one append-only tree, old and new entries prove consistent, and `log monitor` with
// the state it saved before the upgrade passes after it. The log keeps its origin.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { fromBase64 } from '../../src/core/bytes.ts';
import { parseJwk } from '../../src/core/crypto/public-key.ts';
import { verifyKeyChain } from '../../src/core/keys/key-chain.ts';
import { keySet } from '../../src/core/keys/key-set.ts';
import { isKeyPurpose, isKeyStatus, trustedKeyOf, type TrustedKey } from '../../src/core/keys/key.ts';
import { parseCheckpoint } from '../../src/core/tlog/checkpoint.ts';
import { verifyCheckpoint } from '../../src/core/tlog/log-note.ts';
import { verifyConsistency } from '../../src/core/tlog/verify-proof.ts';
import { verifyBundle } from '../../src/core/verify-bundle.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrate, readMigrations } from '../../src/db/migrate.ts';
import { parseKek } from '../../src/services/key-backends/kek.ts';
import { bearer, createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { createPostgresDatabase, TEST_DB } from '../support/db.ts';
import { runCliAsync } from '../support/process.ts';
import { pythonPackage } from '../support/python.ts';
import { assertEntriesHashToTile, backfilledEntries } from '../support/tiles.ts';
import { fixtureWeights } from './make-fixture.ts';

// The first line of a 0.1 leaf (src/core/tlog/entries/modelsign-release-v1.ts), written out: the fixture's bytes are what they are.
const MODELSIGN_RELEASE_HEADER = 'modelsign/tlog-leaf/v1\n';
const FIXTURE = fileURLToPath(new URL('./fixtures/v0.1/', import.meta.url));
const read = (name: string) => readFileSync(path.join(FIXTURE, name), 'utf8');
// The Python guard's check of one file (modelsign_verify.guard), as a loader hook runs it.
const GUARD_CHECK = `
import sys
from modelsign_verify.guard import Guard, load_keys
checked = Guard(load_keys(sys.argv[2])).check_file(sys.argv[1])
print(checked.release)
checked.close()`;

interface Saved {
  id: string;
  model: string;
  version: string;
  when: string;
  files: { path: string; sha256: string; size: number }[];
  signedBundle: any;
  fetchedBundle: any;
}

/**
 * A fixture's schema (the migration files before `firstNew`, unchanged since) with its data loaded:
 * the 0.1 one by default.
 */
async function databaseOf(fixture = FIXTURE, firstNew = '20261128000000', migrations = 3): Promise<{ db: Database; url: string | undefined; drop(): Promise<void> }> {
  const pg = TEST_DB === 'postgres' ? await createPostgresDatabase() : undefined;
  const db = await openDatabase(pg ? { url: pg.url, poolSize: 10 } : {});
  const previous = readMigrations().filter((m) => m.name < firstNew);
  assert.equal(previous.length, migrations);
  await migrate(db, previous);
  // pg_dump's psql meta-commands and session settings are not SQL the driver runs; the rows
  // the migrations seed (the log's and audit chain's heads, the state epoch) come from the dump.
  const sql = readFileSync(path.join(fixture, 'data.sql'), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('\\') && !l.includes("set_config('search_path'") && !l.startsWith('SET SESSION AUTHORIZATION'))
    .join('\n');
  await db.sqlTransaction(async (s) => {
    await s.exec('DELETE FROM "tlog_state"; DELETE FROM "state_epoch"; DELETE FROM "audit_head";');
    await s.exec(sql);
  });
  return { db, url: pg?.url, drop: async () => (await db.close(), await pg?.drop()) };
}
const databaseOfVersion01 = () => databaseOf();

function trustOf(jwks: { keys: Record<string, unknown>[] }): TrustedKey[] {
  return jwks.keys.map((k) => ({
    kid: k.kid as string,
    ...parseJwk(k)!,
    purpose: isKeyPurpose(k.purpose) ? k.purpose : 'release',
    status: isKeyStatus(k.status) ? k.status : 'active',
    compromisedAt: typeof k.compromisedAt === 'string' ? new Date(k.compromisedAt) : null,
  }));
}

describe('upgrading a 0.1 database in place', () => {
  let t: TestApp;
  let server: string;
  let dir: string;
  const saved = JSON.parse(read('signatures.json')) as Saved[];
  const oldCheckpoint = parseCheckpoint(read('checkpoint.txt').slice(0, read('checkpoint.txt').indexOf('\n\n') + 1));
  let applied: string[];
  let database: Awaited<ReturnType<typeof databaseOfVersion01>>;

  before(async () => {
    database = await databaseOfVersion01();
    applied = await migrate(database.db);
    t = await createTestApp({ database, kek: parseKek(read('kek.test-fixture'), 'fixture KEK') });
    server = await listenTestApp(t);
    dir = mkdtempSync(path.join(tmpdir(), 'modelsign-upgrade-'));
  });
  after(async () => {
    await t?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies the new migrations (0.2: interop, then the token-held keys), keeps the log\'s origin and says which clients cannot verify it', () => {
    assert.deepEqual(applied, ['20261128000000_interop', '20261128100000_hsm', '20261128200000_publish', '20261206000000_tiles', '20261207000000_witness', '20261208000000_witness_mode', '20261209000000_tile_rows']);
    assert.equal(t.services.log.origin, 'modelsign.local/log');
    assert.ok(t.logs.some((l) => l.includes('the log origin is not the public URL')));
    assert.equal(saved.length, 5);
  });

  it('serves every old bundle exactly as before, and each verifies online and offline (new keys, and the keys saved before)', async () => {
    const now = keySet(trustOf((await t.app.inject({ url: '/v1/keys' })).json()));
    const then = keySet(trustOf(JSON.parse(read('keys.json'))));
    for (const s of saved) {
      const res = await t.app.inject({ url: `/v1/signatures/${s.id}` });
      assert.deepEqual(res.json().bundle, s.fetchedBundle, `${s.version}: the same bundle`);
      assert.equal(res.json().identity, null, `${s.version}: signed before identities were recorded`);
      assert.equal(s.fetchedBundle.verificationMaterial.tlogEntries[0].kindVersion.kind, 'modelsign-release');
      for (const bundle of [s.signedBundle, s.fetchedBundle]) {
        const online = (await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle } })).json();
        assert.deepEqual(online.reasons, [], `${s.version} (${s.when}) online`);
        for (const trust of [now, then]) assert.deepEqual(verifyBundle(bundle, trust).reasons, [], `${s.version} offline`);
      }
    }
    // 1.0's key was revoked after it was logged: it stays valid for that reason, and says so.
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle: saved[0]!.fetchedBundle } })).json().keyStatus, 'revoked');
  });

  it('extends the rotation chain: from the 0.1 release key still trusted, a client reaches the new ECDSA key', async () => {
    const chain = (await t.app.inject({ url: '/v1/keys/chain' })).json();
    const keys = JSON.parse(read('keys.json')).keys as { kid: string; purpose: string; status: string }[];
    const pinned = keys.find((k) => k.purpose === 'release' && k.status === 'active')!;
    const trusted = verifyKeyChain(chain, parseJwk(pinned)!);
    const ecdsa = t.services.keys.list().find((k) => k.purpose === 'release' && k.algorithm === 'ECDSA P-256')!;
    assert.ok(trusted.some((k) => k.kid === ecdsa.kid && k.algorithm === 'ECDSA P-256'), 'the ECDSA key is introduced by the Ed25519 release key');
  });

  it('verifies old bundles with the CLI and the Python guard', async () => {
    const pkg = pythonPackage();
    for (const s of saved) {
      // A single-file model is named as its bundle's one resource.
      const renamed = path.join(mkdtempSync(path.join(dir, 'm-')), 'model.safetensors');
      writeFileSync(renamed, fixtureWeights(s.version));
      writeFileSync(`${renamed}.sig`, JSON.stringify(s.fetchedBundle));
      const cli = await runCliAsync(['verify', renamed, '--server', server]);
      assert.equal(cli.status, 0, `${s.version}: ${cli.stdout}${cli.stderr}`);
      if (pkg) {
        const pem = path.join(dir, `${s.fetchedBundle.verificationMaterial.publicKey.hint}.pem`);
        writeFileSync(pem, (await t.app.inject({ url: `/v1/keys/${s.fetchedBundle.verificationMaterial.publicKey.hint}` })).json().pem);
        const guard = spawnSync(pkg.python, ['-c', GUARD_CHECK, renamed, pem], { encoding: 'utf8', env: { ...process.env, ...pkg.env } });
        assert.equal(guard.status, 0, guard.stderr);
        assert.equal(guard.stdout.trim(), `${s.model}@${s.version}`);
        const verify = spawnSync(pkg.python, pkg.module('verify', renamed, '--key', pem), { encoding: 'utf8', env: { ...process.env, ...pkg.env } });
        assert.equal(verify.status, 0, verify.stderr);
      }
    }
  });

  it('logs new signatures as Rekor v2 entries, of both algorithms, in the same tree: old and new entries prove consistent', async () => {
    const admin = await t.adminToken();
    const pub = await t.publisherToken('acme');
    const patched = await t.app.inject({ method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(admin), payload: { signingAlgorithms: { 'acme-ec': 'ecdsa-p256' } } });
    assert.equal(patched.statusCode, 200, patched.body);
    const fresh = [];
    for (const model of ['acme/llm', 'acme-ec/llm']) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(pub), payload: { model, version: '5.0', files: [{ path: 'model.safetensors', sha256: 'a'.repeat(64), size: 1 }] } });
      assert.equal(res.statusCode, 201, res.body);
      fresh.push(res.json());
    }
    const trust = keySet(t.services.keys.list().map(trustedKeyOf));
    for (const f of fresh) {
      assert.equal(f.logIndex >= oldCheckpoint.size, true);
      assert.deepEqual(f.bundle.verificationMaterial.tlogEntries[0].kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
      assert.deepEqual(verifyBundle(f.bundle, trust).reasons, []);
    }
    // sigstore-js accepts the new bundles given the trusted root (its baseUrl contains the old origin).
    const root = (await t.app.inject({ url: '/v1/trusted-root' })).json();
    assert.equal(root.tlogs[0].baseUrl, 'https://modelsign.local/log');
    for (const f of fresh) {
      const pem = (await t.app.inject({ url: `/v1/keys/${f.kid}` })).json().pem;
      const material = toTrustMaterial(TrustedRoot.fromJSON(root), () => ({ publicKey: createPublicKey(pem), validFor: () => true }));
      new Verifier(material, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(f.bundle)));
    }
    // Consistency from the checkpoint a client saw before the upgrade to the newest.
    const note = (await t.app.inject({ url: '/v1/log/checkpoint' })).body;
    const logKey = t.services.keys.list().find((k) => k.purpose === 'log' && k.status === 'active')!;
    const latest = verifyCheckpoint(note, logKey);
    assert.equal(latest.origin, oldCheckpoint.origin);
    const proof = (await t.app.inject({ url: `/v1/log/proofs/consistency?from=${oldCheckpoint.size}&to=${latest.size}` })).json();
    verifyConsistency(oldCheckpoint.size, latest.size, proof.hashes.map((h: string) => fromBase64(h)!), oldCheckpoint.rootHash, latest.rootHash);
    const entries = (await t.app.inject({ url: `/v1/log/entries?start=0&end=${latest.size}` })).json().entries;
    assert.deepEqual(
      entries.map((e: { kindVersion: { kind: string } }) => e.kindVersion.kind),
      [...Array(oldCheckpoint.size).fill('modelsign-release'), ...Array(latest.size - oldCheckpoint.size).fill('hashedrekord')],
    );
  });

  it('passes `log monitor` with the state saved before the upgrade, and from scratch over both kinds of entry', async () => {
    const state = path.join(dir, 'monitor.json');
    writeFileSync(state, read('monitor-state.json'));
    const res = await runCliAsync(['log', 'monitor', '--server', server, '--state', state, '--json']);
    assert.equal(res.status, 0, res.stderr + res.stdout);
    const report = JSON.parse(res.stdout);
    assert.equal(report.previousSize, oldCheckpoint.size);
    assert.equal(report.contentChecked, report.size - oldCheckpoint.size);
    const fresh = await runCliAsync(['log', 'monitor', '--server', server, '--state', path.join(dir, 'fresh.json'), '--json']);
    assert.equal(fresh.status, 0, fresh.stderr + fresh.stdout);
    assert.equal(JSON.parse(fresh.stdout).contentChecked, JSON.parse(fresh.stdout).size);
  });

  it('backfills the leaf data of the 0.1 entries at start: the entry bundle holds them, each hashing to the tree\'s leaf hash', async () => {
    const { size, entries: leaves, tile } = await backfilledEntries(t.app);
    assert.equal(leaves.length, size);
    assertEntriesHashToTile(leaves, tile);
    assert.equal(leaves.filter((l) => l.toString('utf8').startsWith(MODELSIGN_RELEASE_HEADER)).length, saved.length, 'the 0.1 entries are of the first kind');
    assert.ok(t.logs.some((l) => l.includes('stored the leaf data of log entries made before 0.2')));
  });
});

/** A fixture whose stored signature at `index` was changed behind the log: the backfill's alarm names it, and the service works on. */
async function assertMismatchAlarm(fixture: string, firstNew: string, migrations: number, index: number): Promise<void> {
  const database = await databaseOf(fixture, firstNew, migrations);
  try {
    await migrate(database.db);
    await database.db.query(`UPDATE "release_signatures" SET "signature" = decode(repeat('cd', 64), 'hex') WHERE "log_index" = ${index}`);
    const t = await createTestApp({ database, kek: parseKek(readFileSync(path.join(fixture, 'kek.test-fixture'), 'utf8'), 'fixture KEK') });
    try {
      let alarm: string | undefined;
      for (let i = 0; i < 100 && !alarm; i++) {
        alarm = t.logs.find((l) => l.includes('log alarm'));
        if (!alarm) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(alarm, 'an alarm line');
      assert.equal(JSON.parse(alarm).index, index);
      assert.match((await t.app.inject({ url: '/metrics' })).body, /^modelsign_log_leaf_mismatches 1$/m);
      const size = Number((await t.app.inject({ url: '/v1/log/checkpoint' })).body.split('\n')[1]);
      const bundle = await t.app.inject({ url: `/v1/log/tile/entries/000.p/${size}` });
      assert.equal(bundle.statusCode, 503);
      assert.match(bundle.json().detail, new RegExp(`first ${index}\\b`));
      const pub = await t.publisherToken('acme');
      const signed = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(pub), payload: { model: 'acme/after', version: '1.0', files: [{ path: 'w.bin', sha256: 'a'.repeat(64), size: 1 }] } });
      assert.equal(signed.statusCode, 201, signed.body);
      assert.equal((await t.app.inject({ url: `/v1/log/tile/0/000.p/${size}` })).statusCode, 200);
      assert.equal((await t.app.inject({ url: '/v1/log/proofs/inclusion?index=0' })).statusCode, 200);
    } finally {
      await t.close();
    }
  } finally {
    await database.drop();
  }
}

describe('upgrading a database whose stored signature no longer matches its log entry', () => {
  it('names that index in an alarm and keeps its bundle unavailable, while signing and reads work (0.1 fixture)', () => assertMismatchAlarm(FIXTURE, '20261128000000', 3, 1));
  it('the same on the cf482d2 fixture (hashedrekord entries)', () => assertMismatchAlarm(fileURLToPath(new URL('./fixtures/cf482d2/', import.meta.url)), '20261206000000', 6, 2));
});

// A 0.2 database from before tiles (test/upgrade/fixtures/cf482d2, made by make-fixture.ts from that
// commit): its entries are hashedrekord leaves, with no leaf data stored.
describe('upgrading a database made by cf482d2 (hashedrekord entries, before tiles)', () => {
  const CF = fileURLToPath(new URL('./fixtures/cf482d2/', import.meta.url));
  it('applies only the tiles and witness migrations (and witness mode\'s), backfills every leaf at start (each the bundle\'s canonicalizedBody, hashing to the tree) and old bundles still verify', async () => {
    const database = await databaseOf(CF, '20261206000000', 6);
    try {
      assert.deepEqual(await migrate(database.db), ['20261206000000_tiles', '20261207000000_witness', '20261208000000_witness_mode', '20261209000000_tile_rows']);
      const t = await createTestApp({ database, kek: parseKek(readFileSync(path.join(CF, 'kek.test-fixture'), 'utf8'), 'fixture KEK') });
      try {
        const { entries: leaves, tile } = await backfilledEntries(t.app);
        assertEntriesHashToTile(leaves, tile);
        const saved = JSON.parse(readFileSync(path.join(CF, 'signatures.json'), 'utf8')) as Saved[];
        assert.equal(saved.length, 5);
        for (const s of saved) {
          const entry = s.fetchedBundle.verificationMaterial.tlogEntries[0];
          assert.equal(entry.kindVersion.kind, 'hashedrekord');
          assert.deepEqual(leaves[Number(entry.logIndex)], Buffer.from(entry.canonicalizedBody, 'base64'), `${s.version}: the stored leaf is the bundle's body`);
          const online = (await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle: s.fetchedBundle } })).json();
          assert.deepEqual(online.reasons, [], `${s.version} online`);
        }
        assert.equal(t.logs.filter((l) => l.includes('log alarm')).length, 0);
      } finally {
        await t.close();
      }
    } finally {
      await database.drop();
    }
  });
});
