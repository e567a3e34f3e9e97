// What the console's search box understands.
// Runs once: no database.
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseQuery } from '../../src/web/query.ts';

describe('parseQuery', () => {
  it('tells models, digests, signature ids and log indexes apart', () => {
    assert.deepEqual(parseQuery(' acme/llama-7b '), { kind: 'model', model: 'acme/llama-7b' });
    assert.deepEqual(parseQuery('acme/llama-7b@1.0+rc1'), { kind: 'model', model: 'acme/llama-7b', version: '1.0+rc1' });
    assert.deepEqual(parseQuery('A'.repeat(64)), { kind: 'digest', sha256: 'a'.repeat(64) });
    assert.deepEqual(parseQuery('0190D3A2-7C1B-7000-8000-000000000001'), { kind: 'id', id: '0190d3a2-7c1b-7000-8000-000000000001' });
    assert.deepEqual(parseQuery('42'), { kind: 'log-index', index: 42 });
    assert.deepEqual(parseQuery('acme'), { kind: 'namespace', namespace: 'acme' });
    assert.deepEqual(parseQuery('a_b.c/'), { kind: 'namespace', namespace: 'a_b.c' });
  });

  it('says what it expects for anything else', () => {
    for (const q of ['', '   ', 'Acme', 'Acme/x', 'acme/x@', '../etc/passwd', 'F'.repeat(63), 'a'.repeat(65), 'acme-', '<img src=x>']) {
      const parsed = parseQuery(q);
      assert.equal(parsed.kind, 'invalid', q);
      assert.match((parsed as { message: string }).message, /model|Type a model/);
    }
  });
});
