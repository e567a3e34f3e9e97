// `modelsign serve` comes up within 15 s on a fresh embedded database and a restart
// keeps keys and data; on PostgreSQL the same, and two instances started together against one
// empty database both come up with migrations applied once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { freshBuild } from '../../bin/prebuilt.js';
import { readMigrations } from '../../src/db/migrate.ts';
import { sha } from '../support/app.ts';
import { createPostgresDatabase, TEST_DB } from '../support/db.ts';
import { runCli, runCliAsync, startService, type Service } from '../support/process.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';

async function signOnce(base: string, adminToken: string, version: string) {
  const post = (url: string, body: object, token: string) =>
    fetch(base + url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  const publishers = (await fetch(`${base}/v1/admin/publishers`, { headers: { authorization: `Bearer ${adminToken}` } }).then((r) => r.json())) as { items: { name: string }[] };
  if (!publishers.items.some((p: { name: string }) => p.name === 'acme')) {
    assert.equal((await post('/v1/admin/publishers', { name: 'acme', namespaces: ['acme'] }, adminToken)).status, 201);
  }
  const issued = (await (await post('/v1/admin/tokens', { role: 'publisher', publisher: 'acme', ttl: '1h' }, adminToken)).json()) as { token: string };
  const signed = await post('/v1/signatures', { model: 'acme/tiny', version, files: [{ path: 'a.bin', sha256: sha('a'), size: 1 }] }, issued.token);
  assert.equal(signed.status, 201);
  return (await signed.json()) as { id: string; kid: string };
}

const activeKids = async (base: string) =>
  ((await fetch(`${base}/v1/keys`).then((r) => r.json())) as { keys: { kid: string; status: string }[] }).keys
    .filter((k) => k.status === 'active')
    .map((k) => k.kid)
    .sort();

describe('modelsign serve on the embedded database', { skip: TEST_DB !== 'pglite' && 'runs in the PGlite pass' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-serve-'));
  const services: Service[] = [];
  after(async () => {
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts within 15 s on a fresh data folder, and a restart keeps keys and data', async () => {
    const env = { MODELSIGN_DATA_DIR: dir };
    const admin = runCli(['admin', 'token', '--role', 'admin', '--subject', 'ops'], env);
    assert.equal(admin.status, 0, admin.stderr);
    const adminToken = admin.stdout.trim();
    assert.match(adminToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(statSync(path.join(dir, 'kek')).mode & 0o777, 0o600, 'the generated KEK is private');

    const first = await startService(env);
    services.push(first);
    assert.ok(first.startupMs < 15_000, `started in ${first.startupMs} ms`);
    const kids = await activeKids(first.base);
    assert.equal(kids.length, 4, 'release keys of both algorithms, the log key, the token key');
    const { id } = await signOnce(first.base, adminToken, '1.0');
    // The prebuilt service finds what it reads at run time (openapi.yaml, the web console) as the sources do.
    assert.equal((await fetch(`${first.base}/`)).status, 200);
    assert.match(await fetch(`${first.base}/openapi.yaml`).then((r) => r.text()), /^openapi: 3/m);

    // While the service holds the embedded database, admin commands go through its control
    // socket, and a second service is refused clearly.
    const live = runCli(['admin', 'token', '--role', 'admin', '--subject', 'live', '--json'], env);
    assert.equal(live.status, 0, live.stderr);
    const liveToken = JSON.parse(live.stdout) as { token: string; subject: string };
    assert.equal(liveToken.subject, 'live');
    const listed = await fetch(`${first.base}/v1/admin/publishers`, { headers: { authorization: `Bearer ${liveToken.token}` } });
    assert.equal(listed.status, 200, 'the token issued through the socket works');
    const refused = runCli(['admin', 'token', '--role', 'publisher', '--publisher', 'ghost'], env);
    assert.equal(refused.status, EXIT.refused);
    assert.match(refused.stderr, /no publisher "ghost"/, 'errors come back through the socket as one line');
    assert.equal(statSync(path.join(dir, 'control.sock')).mode & 0o777, 0o600);
    const secondService = await startService(env).then((s) => (services.push(s), 'started'), (err: Error) => err.message);
    assert.match(secondService, /in use by process \d+/);

    assert.equal(await first.stop(), 0, 'SIGTERM shuts down cleanly');
    const second = await startService(env);
    services.push(second);
    assert.deepEqual(await activeKids(second.base), kids, 'the same keys after a restart');
    const again = await fetch(`${second.base}/v1/signatures/${id}`);
    assert.equal(again.status, 200, 'the signature survived the restart');
    await signOnce(second.base, adminToken, '1.1');
    assert.equal(await second.stop(), 0);
  });
});

describe('the prebuilt command and the TypeScript sources', { skip: TEST_DB !== 'pglite' && 'runs in the PGlite pass' }, () => {
  // bin/modelsign.js runs dist/app/modelsign.mjs (scripts/build-cli.mjs, which npm test runs
  // first) while it is newer than src/, and the sources through tsx otherwise.
  it('is built and newer than every source file', () => {
    assert.ok(freshBuild('dist/app/modelsign.mjs', false), 'the build is missing or stale: the tests would run the sources');
  });

  it('answers the same from both', async () => {
    for (const args of [['serve', '--help'], ['admin', 'keys', '--help'], ['nonsense']]) {
      const [built, fromSources] = await Promise.all([runCliAsync(args, {}), runCliAsync(args, { MODELSIGN_NO_PREBUILT: '1' })]);
      assert.deepEqual([built.status, built.stdout, built.stderr], [fromSources.status, fromSources.stdout, fromSources.stderr], args.join(' '));
    }
  });
});

describe('modelsign serve on PostgreSQL', { skip: TEST_DB !== 'postgres' && 'runs in the PostgreSQL pass' }, () => {
  const services: Service[] = [];
  const drops: (() => Promise<void>)[] = [];
  after(async () => {
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
    for (const drop of drops) await drop();
  });

  it('two instances started together on one empty database both come up, migrations applied once', async () => {
    const db = await createPostgresDatabase();
    drops.push(db.drop);
    const env = { DATABASE_URL: db.url, MODELSIGN_KEK: randomBytes(32).toString('base64') };
    const [a, b] = await Promise.all([startService(env), startService(env)]);
    services.push(a, b);
    assert.ok(a.startupMs < 15_000 && b.startupMs < 15_000, `started in ${a.startupMs} and ${b.startupMs} ms`);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const migrations = await client.query('SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name');
    assert.deepEqual(migrations.rows, readMigrations().map((m) => ({ migration_name: m.name, checksum: m.checksum })));
    const keys = await client.query(`SELECT purpose, algorithm, count(*)::int AS n FROM keys GROUP BY purpose, algorithm ORDER BY purpose::text, algorithm`);
    const expected = [
      { purpose: 'release', algorithm: 'Ed25519', n: 1 },
      { purpose: 'release', algorithm: 'ECDSA P-256', n: 1 },
      { purpose: 'log', algorithm: 'Ed25519', n: 1 },
      { purpose: 'token', algorithm: 'Ed25519', n: 1 },
    ];
    assert.deepEqual(keys.rows, expected.sort((x, y) => x.purpose.localeCompare(y.purpose) || (x.algorithm < y.algorithm ? -1 : 1)));
    await client.end();
    assert.deepEqual(await activeKids(a.base), await activeKids(b.base), 'both instances use the same keys');

    // Not spawnSync: a test blocked for the seconds the command takes would keep a keep-alive
    // socket the services close meanwhile, and meet ECONNRESET on reusing it.
    const admin = await runCliAsync(['admin', 'token', '--role', 'admin', '--subject', 'ops'], env);
    assert.equal(admin.status, 0, admin.stderr);
    const { id } = await signOnce(a.base, admin.stdout.trim(), '1.0');
    assert.equal((await fetch(`${b.base}/v1/signatures/${id}`)).status, 200, 'one instance sees what the other signed');

    const kids = await activeKids(a.base);
    assert.equal(await a.stop(), 0);
    assert.equal(await b.stop(), 0);
    const c = await startService(env);
    services.push(c);
    assert.deepEqual(await activeKids(c.base), kids, 'a restart keeps the keys');
    assert.equal((await fetch(`${c.base}/v1/signatures/${id}`)).status, 200, 'and the data');

    const wrongKek = await startService({ ...env, MODELSIGN_KEK: randomBytes(32).toString('base64') }).then(
      (s) => (services.push(s), 'started'),
      (err: Error) => err.message,
    );
    assert.match(wrongKek, /KEK does not decrypt/, 'a wrong KEK is refused at start with a clear message');
  });
});
