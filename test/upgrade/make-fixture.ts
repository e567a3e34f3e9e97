// Makes test/upgrade/fixtures/v0.1: a database populated by modelsign 0.1 (the last version
// before Rekor v2 log entries) through its own migrations and code paths, and what its clients
// saved. Run against a checkout of that version, on PostgreSQL:
//
//   git worktree add ../before c5be80c && (cd ../before && npm ci)
//   node --import tsx test/upgrade/make-fixture.ts ../before
//
// The same script made test/upgrade/fixtures/cf482d2 (a 0.2 database from before tiles, whose
// entries are hashedrekord leaves) from that commit: `make-fixture.ts ../before-cf fixtures/cf482d2`.
//
// It starts the old service, signs releases across a release-key rotation, a revocation (with a
// signature that predates the compromise) and a log-key rotation, saves every bundle as signed
// and as fetched at the end, the JWKS, the rotation chain, and the old `log monitor` state, then
// dumps the data (not the schema: the test recreates it with the same migration files). The KEK
// is a test fixture made for this file, protecting only these test keys.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const before = path.resolve(process.argv[2] ?? '../before');
const out = path.resolve('test/upgrade', process.argv[3] ?? 'fixtures/v0.1');
const ADMIN = 'postgresql://postgres@127.0.0.1:5432/postgres';
const name = `modelsign_fixture_${randomBytes(4).toString('hex')}`;
const url = `postgresql://postgres@127.0.0.1:5432/${name}`;
const kek = randomBytes(32).toString('base64');
const port = 18_000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;
const env = { ...process.env, DATABASE_URL: url, MODELSIGN_KEK: kek, PORT: String(port), LOG_LEVEL: 'warn' };
/** The content of release `version`'s one file (the test writes it to disk to verify the model). */
export const fixtureWeights = (version: string): Buffer => Buffer.from(`weights of acme/llm ${version}\n`.repeat(100));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [path.join(before, 'bin/modelsign.js'), ...args], { env, encoding: 'utf8', cwd: before });
  if (r.status !== 0) throw new Error(`modelsign ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function api(method: string, p: string, token?: string, body?: unknown): Promise<any> {
  const res = await fetch(base + p, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  let service: ChildProcess | undefined;
  try {
    const adminToken = cli(['admin', 'token', '--role', 'admin', '--subject', 'fixture']).trim();
    service = spawn(process.execPath, [path.join(before, 'bin/modelsign.js'), 'serve'], { env, cwd: before, stdio: 'inherit' });
    for (let i = 0; ; i++) {
      if ((await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200) break;
      if (i > 100) throw new Error('the old service did not start');
      await sleep(200);
    }
    await api('POST', '/v1/admin/publishers', adminToken, { name: 'acme', namespaces: ['acme', 'acme-ec'] });
    const pub = (await api('POST', '/v1/admin/tokens', adminToken, { role: 'publisher', publisher: 'acme', ttl: '1h' })).token;
    const signed: { id: string; model: string; version: string; files: { path: string; sha256: string; size: number }[]; when: string; bundle: unknown }[] = [];
    const sign = async (version: string, when: string) => {
      const bytes = fixtureWeights(version);
      const files = [{ path: 'model.safetensors', sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }];
      const r = await api('POST', '/v1/signatures', pub, { model: 'acme/llm', version, files });
      signed.push({ id: r.id, model: 'acme/llm', version, files, when, bundle: r.bundle });
    };
    await sign('1.0', 'by the first release key, which is revoked later with a compromise time after it was logged');
    await sign('1.1', 'by the first release key');
    const firstRelease = (await api('GET', '/v1/keys')).keys.find((k: any) => k.purpose === 'release' && k.status === 'active').kid;
    await api('POST', '/v1/admin/keys/rotate', adminToken, { purpose: 'release' });
    await sign('2.0', 'after a release-key rotation');
    await sleep(2_100);
    await api('POST', `/v1/admin/keys/${firstRelease}/revoke`, adminToken, { compromisedAt: new Date(Date.now() - 500).toISOString(), reason: 'fixture: compromised after 1.x were logged' });
    await sign('3.0', 'before a log-key rotation');
    await api('POST', '/v1/admin/keys/rotate', adminToken, { purpose: 'log' });
    await sign('4.0', 'after a log-key rotation');
    await sleep(1_500);
    const fetched = [];
    for (const s of signed) fetched.push({ ...s, bundle: undefined, signedBundle: s.bundle, fetchedBundle: (await api('GET', `/v1/signatures/${s.id}`)).bundle });
    mkdirSync(out, { recursive: true });
    const monitorState = path.join(out, 'monitor-state.json');
    cli(['log', 'monitor', '--server', base, '--state', monitorState]);
    writeFileSync(path.join(out, 'signatures.json'), JSON.stringify(fetched, null, 2) + '\n');
    writeFileSync(path.join(out, 'keys.json'), JSON.stringify(await api('GET', '/v1/keys'), null, 2) + '\n');
    writeFileSync(path.join(out, 'chain.json'), JSON.stringify(await api('GET', '/v1/keys/chain'), null, 2) + '\n');
    writeFileSync(path.join(out, 'checkpoint.txt'), await (await fetch(`${base}/v1/log/checkpoint`)).text());
    writeFileSync(path.join(out, 'kek.test-fixture'), `${kek}\n`);
    service.kill('SIGTERM');
    await new Promise((r) => service!.once('exit', r));
    service = undefined;
    const dump = spawnSync('pg_dump', ['--data-only', '--inserts', '--disable-triggers', '--no-owner', '--exclude-table=_prisma_migrations', '-d', url], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (dump.status !== 0) throw new Error(dump.stderr);
    writeFileSync(path.join(out, 'data.sql'), dump.stdout);
    const head = spawnSync('git', ['-C', before, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(path.join(out, 'README.md'), `Made by \`test/upgrade/make-fixture.ts\` from modelsign ${head} on ${new Date().toISOString().slice(0, 10)}.\n\n\`kek.test-fixture\` is a key made for this fixture: it protects only the test keys in \`data.sql\`, nothing else.\n`);
  } finally {
    service?.kill('SIGKILL');
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

if (process.argv[1]?.endsWith('make-fixture.ts')) await main();
