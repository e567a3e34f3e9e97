import { readFileSync } from 'node:fs';
// (Not core logic, but pure: configuration parsing touches neither database nor network.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';

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
