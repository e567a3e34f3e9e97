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
});
