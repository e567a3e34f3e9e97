// Malformed requests get a 4xx application/problem+json with a stable code, and the
// service keeps answering.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ERRORS } from '../../src/core/errors.ts';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';

interface Case {
  name: string;
  method?: 'GET' | 'POST' | 'DELETE';
  url?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  code: keyof typeof ERRORS;
}

const file = (path: string, digest = sha('a')) => ({ path, sha256: digest, size: 1 });
const release = (over: Record<string, unknown>) => ({ model: 'acme/tiny', version: '1.0', files: [file('model.bin')], ...over });

const CASES: Case[] = [
  // wrong types and missing fields
  { name: 'body is an array', body: [], status: 400, code: 'validation_failed' },
  { name: 'body is a string', raw: '"hello"', status: 400, code: 'validation_failed' },
  { name: 'missing model', body: { version: '1', files: [file('a')] }, status: 400, code: 'validation_failed' },
  { name: 'missing version', body: { model: 'acme/x', files: [file('a')] }, status: 400, code: 'validation_failed' },
  { name: 'missing files', body: { model: 'acme/x', version: '1' }, status: 400, code: 'validation_failed' },
  { name: 'empty files', body: release({ files: [] }), status: 400, code: 'validation_failed' },
  { name: 'model is a number', body: release({ model: 42 }), status: 400, code: 'validation_failed' },
  { name: 'files is an object', body: release({ files: { a: 1 } }), status: 400, code: 'validation_failed' },
  { name: 'size is a string', body: release({ files: [{ path: 'a', sha256: sha('a'), size: '1' }] }), status: 400, code: 'validation_failed' },
  { name: 'negative size', body: release({ files: [{ path: 'a', sha256: sha('a'), size: -1 }] }), status: 400, code: 'validation_failed' },
  { name: 'fractional size', body: release({ files: [{ path: 'a', sha256: sha('a'), size: 1.5 }] }), status: 400, code: 'validation_failed' },
  { name: 'file without sha256', body: release({ files: [{ path: 'a', size: 1 }] }), status: 400, code: 'validation_failed' },
  { name: 'null file entry', body: release({ files: [null] }), status: 400, code: 'validation_failed' },
  // digests
  { name: 'digest too short', body: release({ files: [file('a', 'ab')] }), status: 400, code: 'validation_failed' },
  { name: 'digest 65 hex', body: release({ files: [file('a', sha('a') + 'a')] }), status: 400, code: 'validation_failed' },
  { name: 'digest uppercase', body: release({ files: [file('a', 'A'.repeat(64))] }), status: 400, code: 'validation_failed' },
  { name: 'digest not hex', body: release({ files: [file('a', 'g'.repeat(64))] }), status: 400, code: 'validation_failed' },
  { name: 'digest base64', body: release({ files: [file('a', Buffer.alloc(32).toString('base64'))] }), status: 400, code: 'validation_failed' },
  // paths
  { name: 'parent traversal', body: release({ files: [file('../etc/passwd')] }), status: 400, code: 'invalid_path' },
  { name: 'nested traversal', body: release({ files: [file('a/../../b')] }), status: 400, code: 'invalid_path' },
  { name: 'absolute path', body: release({ files: [file('/etc/passwd')] }), status: 400, code: 'invalid_path' },
  { name: 'empty path', body: release({ files: [file('')] }), status: 400, code: 'validation_failed' },
  { name: 'empty segment', body: release({ files: [file('a//b')] }), status: 400, code: 'invalid_path' },
  { name: 'dot segment', body: release({ files: [file('./a')] }), status: 400, code: 'invalid_path' },
  { name: 'trailing slash', body: release({ files: [file('a/')] }), status: 400, code: 'invalid_path' },
  { name: 'NUL in path', body: release({ files: [file('a\u0000b')] }), status: 400, code: 'invalid_path' },
  { name: 'newline in path', body: release({ files: [file('a\nb')] }), status: 400, code: 'invalid_path' },
  { name: 'escape in path', body: release({ files: [file('a\u001b[31mb')] }), status: 400, code: 'invalid_path' },
  { name: 'backslash path', body: release({ files: [file('a\\..\\b')] }), status: 400, code: 'invalid_path' },
  { name: 'NFD name', body: release({ files: [file('cafe\u0301.bin')] }), status: 400, code: 'invalid_path' },
  { name: 'NFC and NFD of one name', body: release({ files: [file('caf\u00e9'), file('cafe\u0301')] }), status: 400, code: 'invalid_path' },
  { name: 'duplicate paths', body: release({ files: [file('a'), file('a', sha('b'))] }), status: 400, code: 'duplicate_path' },
  { name: 'file and folder', body: release({ files: [file('a'), file('a/b')] }), status: 400, code: 'invalid_path' },
  { name: 'unsafe ignore path', body: release({ ignorePaths: ['../x'] }), status: 400, code: 'invalid_path' },
  { name: 'file under ignored path', body: release({ files: [file('.git/HEAD')], ignorePaths: ['.git'] }), status: 400, code: 'invalid_path' },
  { name: '100,000 files', body: release({ files: Array.from({ length: 100_000 }, (_, i) => file(`f${i}`)) }), status: 413, code: 'payload_too_large' },
  { name: '10,001 files', body: release({ files: Array.from({ length: 10_001 }, (_, i) => file(`${i}`)) }), status: 400, code: 'validation_failed' },
  { name: 'path too long', body: release({ files: [file('a'.repeat(5000))] }), status: 400, code: 'validation_failed' },
  // models and versions
  { name: 'model without namespace', body: release({ model: 'tiny' }), status: 400, code: 'invalid_model_name' },
  { name: 'model with two slashes', body: release({ model: 'acme/a/b' }), status: 400, code: 'invalid_model_name' },
  { name: 'uppercase namespace', body: release({ model: 'Acme/tiny' }), status: 400, code: 'invalid_model_name' },
  { name: 'model name with space', body: release({ model: 'acme/ti ny' }), status: 400, code: 'invalid_model_name' },
  { name: 'model name ..', body: release({ model: 'acme/..' }), status: 400, code: 'invalid_model_name' },
  { name: 'empty model name', body: release({ model: 'acme/' }), status: 400, code: 'invalid_model_name' },
  { name: 'empty version', body: release({ version: '' }), status: 400, code: 'invalid_version' },
  { name: 'version with slash', body: release({ version: '1/2' }), status: 400, code: 'invalid_version' },
  { name: 'version starting with dot', body: release({ version: '.1' }), status: 400, code: 'invalid_version' },
  { name: 'version with @', body: release({ version: '1@2' }), status: 400, code: 'invalid_version' },
  { name: 'version too long', body: release({ version: '1'.repeat(129) }), status: 400, code: 'validation_failed' },
  // unknown fields
  { name: 'unknown top-level field', body: release({ signer: 'me' }), status: 400, code: 'validation_failed' },
  { name: 'unknown file field', body: release({ files: [{ ...file('a'), mode: 644 }] }), status: 400, code: 'validation_failed' },
  { name: '__proto__ member', raw: '{"model":"acme/x","version":"1","files":[],"__proto__":{"admin":true}}', status: 400, code: 'invalid_json' },
  // bodies and media types
  { name: 'invalid JSON', raw: '{"model": ', status: 400, code: 'invalid_json' },
  { name: 'empty JSON body', raw: '', status: 400, code: 'invalid_json' },
  { name: 'text/plain body', raw: 'hello', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
  { name: 'form body', raw: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' },
  { name: 'oversized body', raw: JSON.stringify({ model: 'acme/x', version: '1', files: [], pad: 'x'.repeat(5 * 1024 * 1024) }), status: 413, code: 'payload_too_large' },
  // other routes
  { name: 'verify without bundle', method: 'POST', url: '/v1/verify', body: {}, status: 400, code: 'validation_failed' },
  { name: 'verify with a string bundle', method: 'POST', url: '/v1/verify', body: { bundle: 'x' }, status: 400, code: 'validation_failed' },
  { name: 'verify with bad file digests', method: 'POST', url: '/v1/verify', body: { bundle: {}, files: [{ path: 'a', sha256: 'x' }] }, status: 400, code: 'validation_failed' },
  { name: 'list with limit 0', method: 'GET', url: '/v1/signatures?limit=0', status: 400, code: 'validation_failed' },
  { name: 'list with limit abc', method: 'GET', url: '/v1/signatures?limit=abc', status: 400, code: 'validation_failed' },
  { name: 'list with bad sha256', method: 'GET', url: '/v1/signatures?sha256=xyz', status: 400, code: 'validation_failed' },
  { name: 'list with unknown parameter', method: 'GET', url: '/v1/signatures?modle=acme/x', status: 400, code: 'validation_failed' },
  { name: 'list with forged cursor', method: 'GET', url: '/v1/signatures?cursor=-1', status: 400, code: 'validation_failed' },
  { name: 'unknown route', method: 'GET', url: '/v1/nothing', status: 404, code: 'route_not_found' },
  { name: 'wrong method', method: 'DELETE', url: '/v1/keys', status: 404, code: 'route_not_found' },
  { name: 'publisher with bad namespace', method: 'POST', url: '/v1/admin/publishers', body: { name: 'p', namespaces: ['Bad NS'] }, status: 400, code: 'invalid_namespace' },
  { name: 'publisher with bad name', method: 'POST', url: '/v1/admin/publishers', body: { name: '../p', namespaces: ['p'] }, status: 400, code: 'validation_failed' },
  { name: 'token with bad ttl', method: 'POST', url: '/v1/admin/tokens', body: { role: 'admin', subject: 'x', ttl: 'forever' }, status: 400, code: 'validation_failed' },
  { name: 'token with huge ttl', method: 'POST', url: '/v1/admin/tokens', body: { role: 'admin', subject: 'x', ttl: '9999999d' }, status: 400, code: 'invalid_duration' },
  { name: 'admin token without subject', method: 'POST', url: '/v1/admin/tokens', body: { role: 'admin', ttl: '1d' }, status: 400, code: 'invalid_token_request' },
  { name: 'publisher token without publisher', method: 'POST', url: '/v1/admin/tokens', body: { role: 'publisher', ttl: '1d' }, status: 400, code: 'invalid_token_request' },
  { name: 'token for unknown publisher', method: 'POST', url: '/v1/admin/tokens', body: { role: 'publisher', publisher: 'ghost', ttl: '1d' }, status: 404, code: 'publisher_unknown' },
  { name: 'token with unknown role', method: 'POST', url: '/v1/admin/tokens', body: { role: 'root', subject: 'x', ttl: '1d' }, status: 400, code: 'validation_failed' },
];

describe('malformed requests', () => {
  let t: TestApp;
  let publisher: string;
  let admin: string;
  before(async () => {
    t = await createTestApp();
    publisher = await t.publisherToken('acme');
    admin = await t.adminToken();
  });
  after(() => t.close());

  it(`has at least 40 cases (${CASES.length})`, () => assert.ok(CASES.length >= 40));

  for (const c of CASES) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const method = c.method ?? 'POST';
      const url = c.url ?? '/v1/signatures';
      const token = url.startsWith('/v1/admin') ? admin : publisher;
      const hasBody = c.body !== undefined || c.raw !== undefined;
      const res = await t.app.inject({
        method,
        url,
        headers: { ...bearer(token), ...(hasBody ? { 'content-type': 'application/json' } : {}), ...c.headers },
        ...(c.raw !== undefined ? { payload: c.raw } : c.body !== undefined ? { payload: JSON.stringify(c.body) } : {}),
      });
      assert.equal(res.statusCode, c.status, res.body.slice(0, 500));
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
      const problem = res.json();
      assert.equal(problem.code, c.code, problem.detail);
      assert.equal(problem.status, c.status);
      assert.ok(problem.code in ERRORS, 'a documented code');
      assert.equal(typeof problem.detail, 'string');
      assert.doesNotMatch(res.body, /\bat .*\.ts:\d+/, 'no stack trace');
    });
  }

  it('still answers /healthz afterwards', async () => {
    const res = await t.app.inject({ url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });
});
