import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// (Not core logic, but pure: configuration parsing touches neither database nor network.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { ED25519_WITNESSES } from '../support/witness-cases.ts';
import { WitnessTestLog } from '../support/witness-log.ts';

describe('configuration', () => {
  it('defaults to the embedded database on 127.0.0.1:8080', () => {
    const c = loadConfig({});
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.match(c.dataDir, /\/data$/);
  });

  it('requires a KEK with DATABASE_URL, and refuses bad values with the variable named', () => {
    assert.throws(() => loadConfig({ DATABASE_URL: 'postgresql://x/y' }), (e) => e instanceof ConfigError && /MODELSIGN_KEK/.test(e.message));
    assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x/y', MODELSIGN_KEK: 'k' }), (e) => e instanceof ConfigError && /DATABASE_URL/.test(e.message));
    assert.throws(() => loadConfig({ PORT: '70000' }), (e) => e instanceof ConfigError && /PORT/.test(e.message));
    assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), (e) => e instanceof ConfigError && /LOG_LEVEL/.test(e.message));
    assert.throws(() => loadConfig({ MODELSIGN_KEK: 'a', MODELSIGN_KEK_FILE: 'b' }), (e) => e instanceof ConfigError && /not both/.test(e.message));
    assert.equal(loadConfig({ DATABASE_URL: 'postgres://h/db', MODELSIGN_KEK_FILE: '/run/secrets/kek' }).kekFile, '/run/secrets/kek');
  });

  it('reads the log and rotation settings', () => {
    const c = loadConfig({ MODELSIGN_ROTATE_RELEASE_EVERY: '90d', MODELSIGN_ROTATE_TOKEN_EVERY: '12h', MODELSIGN_PREPUBLISH: '1h', MODELSIGN_TLOG_WAIT_MS: '0' });
    assert.deepEqual(c.rotation, { every: { release: 90 * 86_400_000, token: 12 * 3_600_000 }, prepublishMs: 3_600_000 });
    assert.equal(c.tlogWaitMs, 0);
    assert.deepEqual(loadConfig({}).rotation, { every: {}, prepublishMs: 7 * 86_400_000 });
    assert.throws(() => loadConfig({ MODELSIGN_ROTATE_LOG_EVERY: 'often' }), (e) => e instanceof ConfigError && /MODELSIGN_ROTATE_LOG_EVERY/.test(e.message));
    assert.throws(() => loadConfig({ MODELSIGN_ROTATE_RELEASE_EVERY: '1d', MODELSIGN_PREPUBLISH: '7d' }), (e) => e instanceof ConfigError && /MODELSIGN_PREPUBLISH/.test(e.message));
    assert.throws(() => loadConfig({ MODELSIGN_LOG_ORIGIN: 'example.com/my log' }), (e) => e instanceof ConfigError && /MODELSIGN_LOG_ORIGIN/.test(e.message));
    assert.throws(() => loadConfig({ MODELSIGN_LOG_ORIGIN: 'a+b' }), ConfigError);
  });

  it('reads the PKCS#11 settings: the token and module from the URI or the variables, which slots live in the token, no KEK when all do', () => {
    const base = { MODELSIGN_KEY_BACKEND: 'pkcs11', MODELSIGN_PKCS11_URI: 'pkcs11:token=hsm%201?module-path=/usr/lib/m.so', MODELSIGN_PKCS11_PIN_FILE: '/run/pin' };
    const c = loadConfig({ ...base, DATABASE_URL: 'postgres://h/db' });
    assert.equal(c.keyBackend, 'pkcs11');
    assert.deepEqual({ ...c.pkcs11, slots: c.pkcs11!.slots.map((s) => `${s.purpose}/${s.algorithm}`) }, {
      modulePath: '/usr/lib/m.so',
      token: 'hsm 1',
      serial: undefined,
      manufacturer: undefined,
      pinFile: '/run/pin',
      slots: ['release/Ed25519', 'release/ECDSA P-256', 'log/Ed25519', 'token/Ed25519', 'witness/Ed25519'],
      sessions: 4,
    });
    assert.equal(loadConfig({ ...base, MODELSIGN_PKCS11_MODULE: '/opt/vendor.so' }).pkcs11!.modulePath, '/opt/vendor.so', 'the variable overrides module-path');
    const some = loadConfig({ ...base, MODELSIGN_PKCS11_PURPOSES: 'release:ecdsa-p256, log' });
    assert.deepEqual(some.pkcs11!.slots.map((s) => `${s.purpose}/${s.algorithm}`), ['release/ECDSA P-256', 'log/Ed25519']);
    assert.throws(() => loadConfig({ ...base, DATABASE_URL: 'postgres://h/db', MODELSIGN_PKCS11_PURPOSES: 'log' }), (e) => e instanceof ConfigError && /MODELSIGN_KEK/.test(e.message), 'slots left out of the token need a KEK');
    assert.throws(() => loadConfig({ ...base, MODELSIGN_PKCS11_PURPOSES: 'release:rsa' }), (e) => e instanceof ConfigError && /unknown "release:rsa"/.test(e.message));
    assert.throws(() => loadConfig({ ...base, MODELSIGN_KEY_BACKEND: 'vault' }), (e) => e instanceof ConfigError && /MODELSIGN_KEY_BACKEND/.test(e.message));
    assert.throws(() => loadConfig({ MODELSIGN_PKCS11_URI: 'pkcs11:token=a' }), (e) => e instanceof ConfigError && /MODELSIGN_KEY_BACKEND is not pkcs11/.test(e.message));
    assert.throws(() => loadConfig({ ...base, MODELSIGN_PKCS11_URI: 'pkcs11:token=a' }), (e) => e instanceof ConfigError && /needs the module/.test(e.message));
    assert.throws(() => loadConfig({ ...base, MODELSIGN_PKCS11_MODULE: 'lib.so' }), (e) => e instanceof ConfigError && /absolute path/.test(e.message));
  });

  it('reads the witnesses to submit to from a C2SP policy file, each with its URL, and their pace', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-config-'));
    try {
      const file = path.join(dir, 'witnesses.policy');
      const [a, b] = ED25519_WITNESSES;
      writeFileSync(file, `witness a ${a!.vkey} https://a.example/w\nwitness b ${b!.vkey} https://b.example/\ngroup both all a b\nquorum both\n`);
      const c = loadConfig({ MODELSIGN_WITNESS_POLICY: file, MODELSIGN_WITNESS_PACE: 'b=1m' });
      assert.deepEqual(c.witnesses!.targets.map((t) => [t.name, t.url, t.paceMs]), [['a', 'https://a.example/w', 10_000], ['b', 'https://b.example', 60_000]]);
      assert.equal(c.witnesses!.policy.quorum, 'both');
      assert.equal(loadConfig({}).witnesses, undefined);
      const refused = (env: Record<string, string>, pattern: RegExp) => assert.throws(() => loadConfig(env), (e) => e instanceof ConfigError && pattern.test(e.message), JSON.stringify(env));
      refused({ MODELSIGN_WITNESS_POLICY: path.join(dir, 'missing') }, /MODELSIGN_WITNESS_POLICY: cannot read/);
      refused({ MODELSIGN_WITNESS_PACE: 'a=10s' }, /without MODELSIGN_WITNESS_POLICY/);
      refused({ MODELSIGN_WITNESS_POLICY: file, MODELSIGN_WITNESS_PACE: 'c=10s' }, /c is not a witness/);
      refused({ MODELSIGN_WITNESS_POLICY: file, MODELSIGN_WITNESS_PACE: 'a=100' }, /at least 1s/);
      refused({ MODELSIGN_WITNESS_POLICY: file, MODELSIGN_ROTATE_LOG_EVERY: '30d' }, /witnesses pin the log key/);
      writeFileSync(file, `witness a ${a!.vkey}\nquorum a\n`);
      refused({ MODELSIGN_WITNESS_POLICY: file }, /needs its add-checkpoint URL/);
      writeFileSync(file, 'quorum none\n');
      refused({ MODELSIGN_WITNESS_POLICY: file }, /names no witness/);
      writeFileSync(file, 'witness a nonsense\nquorum a\n');
      refused({ MODELSIGN_WITNESS_POLICY: file }, /line 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads where the log\'s mirror is served', () => {
    assert.equal(loadConfig({ MODELSIGN_MIRROR_URL: 'https://mirror.example.com/log/' }).mirrorUrl, 'https://mirror.example.com/log');
    assert.equal(loadConfig({}).mirrorUrl, undefined);
    for (const bad of ['ftp://x/log', 'not a url', 'https://x/log?a=1']) assert.throws(() => loadConfig({ MODELSIGN_MIRROR_URL: bad }), (e) => e instanceof ConfigError && /MODELSIGN_MIRROR_URL/.test(e.message), bad);
  });

  it('reads what `modelsign witness` witnesses: its name, the logs (and fellow witnesses) of a tlog-policy file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-witness-config-'));
    try {
      const file = path.join(dir, 'witnessed.policy');
      const log = new WitnessTestLog('log.example.org', 0x51).vkey;
      writeFileSync(file, `# logs\nlog ${log} https://log.example.org/v1/log/\nwitness peer ${ED25519_WITNESSES[0]!.vkey} https://witness.example.net\n`);
      const mode = loadConfig({ MODELSIGN_WITNESS_NAME: 'witness.example.org', MODELSIGN_WITNESS_LOGS: file }).witnessMode!;
      assert.deepEqual([mode.name, mode.logs.map((l) => [l.vkey.name, l.url]), mode.peers, mode.perMinute], ['witness.example.org', [['log.example.org', 'https://log.example.org/v1/log']], [{ name: 'peer', url: 'https://witness.example.net' }], 600]);
      assert.equal(loadConfig({}).witnessMode, undefined);
      const refused = (env: Record<string, string>, pattern: RegExp) => assert.throws(() => loadConfig(env), (e) => e instanceof ConfigError && pattern.test(e.message), JSON.stringify(env));
      refused({ MODELSIGN_WITNESS_NAME: 'witness.example.org' }, /go together/);
      refused({ MODELSIGN_WITNESS_NAME: 'a b', MODELSIGN_WITNESS_LOGS: file }, /MODELSIGN_WITNESS_NAME must be a note key name/);
      writeFileSync(file, 'quorum none\n');
      refused({ MODELSIGN_WITNESS_NAME: 'w.example.org', MODELSIGN_WITNESS_LOGS: file }, /names no log/);
      writeFileSync(file, `log ${log}\nlog ${log}\n`);
      refused({ MODELSIGN_WITNESS_NAME: 'w.example.org', MODELSIGN_WITNESS_LOGS: file }, /repeats the key of an earlier log line/);
      refused({ MODELSIGN_WITNESS_NAME: 'w.example.org', MODELSIGN_WITNESS_LOGS: path.join(dir, 'missing') }, /cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the folder the service mirrors its log into, and how often', () => {
    assert.deepEqual(loadConfig({ MODELSIGN_MIRROR_DIR: '/srv/mirror' }).mirror, { dir: '/srv/mirror', intervalMs: 60_000 });
    assert.deepEqual(loadConfig({ MODELSIGN_MIRROR_DIR: '/srv/mirror', MODELSIGN_MIRROR_INTERVAL: '5m' }).mirror, { dir: '/srv/mirror', intervalMs: 300_000 });
    assert.equal(loadConfig({}).mirror, undefined);
    const refused = (env: Record<string, string>, pattern: RegExp) => assert.throws(() => loadConfig(env), (e) => e instanceof ConfigError && pattern.test(e.message), JSON.stringify(env));
    refused({ MODELSIGN_MIRROR_DIR: 'mirror' }, /MODELSIGN_MIRROR_DIR must be an absolute path/);
    refused({ MODELSIGN_MIRROR_INTERVAL: '1m' }, /MODELSIGN_MIRROR_INTERVAL is set without MODELSIGN_MIRROR_DIR/);
    refused({ MODELSIGN_MIRROR_DIR: '/srv/mirror', MODELSIGN_MIRROR_INTERVAL: '500ms' }, /MODELSIGN_MIRROR_INTERVAL/);
    refused({ MODELSIGN_MIRROR_DIR: '/srv/mirror', MODELSIGN_MIRROR_INTERVAL: 'often' }, /MODELSIGN_MIRROR_INTERVAL must be a duration/);
  });

  it('documents every variable it reads in README.md and .env.example', () => {
    const source = readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const names = new Set([...source.matchAll(/'((?:MODELSIGN|DATABASE|HOST|PORT|LOG)_?[A-Z_]*)'/g)].map((m) => m[1]!));
    names.add('MODELSIGN_ROTATE_RELEASE_EVERY');
    assert.ok(names.size >= 12, [...names].join(' '));
    for (const name of names) {
      assert.ok(readme.includes(name) || readme.includes(name.replace('MODELSIGN_ROTATE_', '_')), `README.md lacks ${name}`);
      assert.ok(example.includes(name), `.env.example lacks ${name}`);
    }
  });
});
