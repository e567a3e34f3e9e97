// Property-based fuzzing of every route. Requests are generated from the
// operations of openapi.yaml (their path and query parameters, their JSON bodies, the headers
// the service reads), as schema-valid values, known-good requests with one part mutated, and
// plain garbage. Every answer must be below 500, and every error problem+json with a
// documented code whose status is the one that code maps to and one the operation documents.
// MODELSIGN_FUZZ_RUNS sets the number of requests (default 10,000; `npm run fuzz` runs 100,000);
// MODELSIGN_FUZZ_SEED replays a failure (fast-check prints the seed and path of the smallest case).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ERRORS } from '../../src/core/errors.ts';
import type { OpenApiOperation } from '../../src/server/openapi.ts';
import { problem } from '../../src/server/problem.ts';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';
import { INVISIBLE_CODE_POINTS } from '../support/unicode.ts';

type Schema = Record<string, unknown>;
const RUNS = Number(process.env.MODELSIGN_FUZZ_RUNS ?? 10_000);
const SEED = process.env.MODELSIGN_FUZZ_SEED === undefined ? Date.now() ^ (Math.random() * 2 ** 31) : Number(process.env.MODELSIGN_FUZZ_SEED);

// Answers any route may give whatever its own list says: no route matched after a path
// parameter was garbled, a body too large or of the wrong type for a route without a body.
const ANY_ROUTE = new Set(['route_not_found', 'payload_too_large', 'unsupported_media_type']);

/** Values a schema accepts, with fast-check's own edge cases. */
function fromSchema(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (schema.const !== undefined) return fc.constant(schema.const);
  const variants = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (variants) return fc.oneof(...variants.map((v) => fromSchema(v, depth + 1)));
  const type = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  const arbs = type.map((t): fc.Arbitrary<unknown> => {
    switch (t) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return fc.integer({ min: (schema.minimum as number | undefined) ?? -(2 ** 31), max: (schema.maximum as number | undefined) ?? 2 ** 31 });
      case 'number':
        return fc.double({ noNaN: true });
      case 'string': {
        if (schema.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
        if (typeof schema.pattern === 'string') {
          try {
            return fc.stringMatching(new RegExp(schema.pattern), { size: 'small' });
          } catch {
            /* a pattern fast-check cannot generate from: plain strings */
          }
        }
        const plain = fc.string({ minLength: (schema.minLength as number | undefined) ?? 0, maxLength: Math.min((schema.maxLength as number | undefined) ?? 40, 200) });
        return fc.oneof({ weight: 4, arbitrary: plain }, { weight: 1, arbitrary: withInvisible(plain) });
      }
      case 'array':
        if (depth > 4) return fc.constant([]);
        return fc.array(fromSchema((schema.items ?? {}) as Schema, depth + 1), { minLength: (schema.minItems as number | undefined) ?? 0, maxLength: Math.min((schema.maxItems as number | undefined) ?? 4, 4) });
      case 'object': {
        if (depth > 4) return fc.constant({});
        const properties = (schema.properties ?? {}) as Record<string, Schema>;
        const required = (schema.required ?? []) as string[];
        const shape = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, fromSchema(v, depth + 1)]));
        return fc.record(shape, { requiredKeys: required.filter((k) => k in shape) });
      }
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  });
  return arbs.length === 1 ? arbs[0]! : fc.oneof(...arbs);
}

/** Strings with an invisible or bidirectional format character somewhere in them. */
function withInvisible(strings: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(strings, fc.constantFrom(...INVISIBLE_CODE_POINTS), fc.nat()).map(([text, cp, at]) => {
    const i = text.length === 0 ? 0 : at % (text.length + 1);
    return text.slice(0, i) + String.fromCodePoint(cp) + text.slice(i);
  });
}

/** One JSON value with one part replaced, removed or added. */
function mutated(value: unknown): fc.Arbitrary<unknown> {
  const paths: string[][] = [];
  const walk = (v: unknown, path: string[]) => {
    paths.push(path);
    if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...path, k]);
  };
  walk(value, []);
  return fc.tuple(fc.constantFrom(...paths), fc.constantFrom('replace', 'delete', 'add'), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string(), withInvisible(fc.constantFrom('model.safetensors', 'acme/m', '1.0', '.git')), fc.constantFrom('', 0, -1, 2 ** 53, 1e400, null, true, '../../etc/passwd', '\u0000', 'a'.repeat(5000)))).map(([path, how, replacement]) => {
    const copy = structuredClone(value) as Record<string, unknown>;
    if (path.length === 0) return how === 'add' ? { ...(copy as object), extra: replacement } : replacement;
    let parent: Record<string, unknown> = copy;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string, unknown>;
    const last = path.at(-1)!;
    if (how === 'delete') delete parent[last];
    else if (how === 'replace') parent[last] = replacement;
    else if (typeof parent[last] === 'object' && parent[last] !== null) (parent[last] as Record<string, unknown>)[`x${path.length}`] = replacement;
    else parent[last] = [parent[last], replacement];
    return copy;
  });
}

const garbageString = fc.oneof(
  fc.string({ maxLength: 80 }),
  withInvisible(fc.string({ maxLength: 40 })),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '..', '.', '%00', '%2e%2e', '%ff', 'a'.repeat(300), '-1', '1e400', '9007199254740993', 'null', '[]', '{}', 'NaN', ' 1', '0x10'),
);

interface Generated {
  operationId: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

describe('fuzzing every route from openapi.yaml', () => {
  let t: TestApp;
  let tokens: Record<string, string>;
  let known: Record<string, { params?: Record<string, string>; query?: Record<string, string>; body?: unknown }>;

  before(async () => {
    t = await createTestApp({ tlogWaitMs: 0 });
    const admin = await t.adminToken();
    tokens = {
      admin,
      publisher: await t.publisherToken('acme'),
      auditor: (await t.services.tokens.issueFor({ role: 'auditor', subject: 'fuzz', ttlMs: 3_600_000 }, 'test')).token,
    };
    const signed = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(tokens.publisher!), payload: { model: 'acme/seed', version: '1.0', files: [{ path: 'w.bin', sha256: sha('a'), size: 1 }] } });
    assert.equal(signed.statusCode, 201, signed.body);
    const { id, bundle } = signed.json();
    const release = t.services.keys.signer('release').kid;
    // A token of its own for revokeToken to revoke (revoking the fuzzer's publisher token would
    // end signing for the rest of the run).
    const jti = (await t.services.tokens.issueFor({ role: 'publisher', publisher: 'acme', ttlMs: 3_600_000 }, 'test')).jti;
    // A publisher of its own for updatePublisher to change: a mutated body may disable a publisher
    // or take its namespaces, and doing that to acme ended signing for the rest of the run (seed
    // 1170551880 disabled it early, and signReleases never succeeded).
    const target = await t.app.inject({ method: 'POST', url: '/v1/admin/publishers', headers: bearer(admin), payload: { name: 'fuzz-target', namespaces: ['fuzz-target'] } });
    assert.equal(target.statusCode, 201, target.body);
    known = {
      getKey: { params: { kid: release } },
      signRelease: { body: { model: 'acme/fuzz', version: '1.0', files: [{ path: 'a/b.bin', sha256: sha('b'), size: 10 }], ignorePaths: ['.git'] } },
      signReleases: { body: { items: [{ model: 'acme/fuzz', version: '2.0', files: [{ path: 'a/b.bin', sha256: sha('c'), size: 10 }] }, { model: 'acme/fuzz', version: '2.1', files: [{ path: 'c.bin', sha256: sha('d'), size: 1 }] }] } },
      listSignatures: { query: { model: 'acme/seed', version: '1.0', sha256: sha('a'), limit: '10' } },
      getSignature: { params: { id } },
      getReleaseBundle: { params: { namespace: 'acme', name: 'seed', version: '1.0' } },
      verifyBundle: { body: { bundle, files: [{ path: 'w.bin', sha256: sha('a') }] } },
      getInclusionProof: { query: { index: '0', treeSize: '1' } },
      getConsistencyProof: { query: { from: '1', to: '1' } },
      getLogEntries: { query: { start: '0', end: '1' } },
      createPublisher: { body: { name: 'fuzzco', namespaces: ['fuzzco'] } },
      issueToken: { body: { role: 'publisher', publisher: 'acme', ttl: '1h' } },
      revokeToken: { params: { jti } },
      rotateKey: { body: { purpose: 'log' } },
      revokeKey: { params: { kid: release }, body: { compromisedAt: new Date().toISOString(), reason: 'fuzz' } },
      updatePublisher: { params: { id: 'fuzz-target' }, body: { namespaces: ['fuzz-target', 'fuzz-target-x'] } },
      listAuditEvents: { query: { limit: '5', action: 'release.sign' } },
    };
  });
  after(() => t.close());

  const MUST_SUCCEED = ['signRelease', 'signReleases', 'verifyBundle', 'getSignature', 'getReleaseBundle', 'createPublisher', 'issueToken', 'listAuditEvents'];

  // getTile's one parameter is the rest of the path, slashes and all (C2SP tlog-tiles): valid full
  // and partial tiles and bundles (mostly beyond this small tree: 404), and the forbidden shapes.
  const group = fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, '0'));
  const tileIndex = fc.array(group, { minLength: 1, maxLength: 4 }).map((g) => g.map((x, i) => (i < g.length - 1 ? `x${x}` : x)).join('/'));
  const tilePath = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.oneof(fc.integer({ min: 0, max: 63 }).map(String), fc.constant('entries')), tileIndex, fc.option(fc.integer({ min: 1, max: 255 }))).map(([l, n, w]) => `${l}/${n}${w === null ? '' : `.p/${w}`}`) },
    { weight: 2, arbitrary: fc.constantFrom('0/000.p/1', 'entries/000.p/1', '0/000.p/2', 'entries/000.p/3') },
    { weight: 2, arbitrary: fc.constantFrom('00/000', '64/000', '0/0000', '0/x000/001', '0/000.p/0', '0/000.p/256', '0/000.p/01', '0/../000', '0/000.q/1', 'entries/000.p', '0/000/', '-1/000', '0/x1/000', '0/%2e%2e/000', '0//000') },
    { weight: 1, arbitrary: garbageString.map((g) => encodeURIComponent(g)) },
  );

  function requestFor(op: OpenApiOperation): fc.Arbitrary<Generated> {
    if (op.operationId === 'getTile') {
      return tilePath.map((path) => ({ operationId: op.operationId, method: 'GET', url: `/v1/log/tile/${path}`, headers: {} }));
    }
    const parameters = (op.operation.parameters ?? []) as Array<{ name: string; in: string; schema: Schema }>;
    const example = known[op.operationId] ?? {};
    const value = (p: { name: string; in: string; schema: Schema }) =>
      fc.oneof(
        { weight: 3, arbitrary: fromSchema(p.schema).map(String) },
        { weight: example[p.in === 'path' ? 'params' : 'query']?.[p.name] !== undefined ? 3 : 0, arbitrary: fc.constant(example[p.in === 'path' ? 'params' : 'query']?.[p.name] ?? '') },
        { weight: 2, arbitrary: garbageString },
      );
    const pathParams = fc.record(Object.fromEntries(parameters.filter((p) => p.in === 'path').map((p) => [p.name, value(p)])));
    const query = fc.record(Object.fromEntries(parameters.filter((p) => p.in === 'query').map((p) => [p.name, value(p)])), { requiredKeys: [] });
    const extraQuery = fc.option(fc.tuple(garbageString, garbageString), { freq: 5 });
    const media = (op.operation.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)?.content?.['application/json'];
    const body: fc.Arbitrary<string | undefined> = media
      ? fc.oneof(
          { weight: 3, arbitrary: fromSchema(media.schema).map((v) => JSON.stringify(v)) },
          { weight: example.body !== undefined ? 2 : 0, arbitrary: fc.constant(JSON.stringify(example.body ?? null)) },
          { weight: example.body !== undefined ? 4 : 0, arbitrary: mutated(example.body ?? {}).map((v) => JSON.stringify(v) ?? 'null') },
          { weight: 1, arbitrary: fc.oneof(garbageString, fc.jsonValue().map((v) => JSON.stringify(v))) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        )
      : fc.option(fc.oneof(garbageString, fc.jsonValue().map((v) => JSON.stringify(v))), { freq: 8, nil: undefined });
    const authorization = fc.oneof(
      { weight: op.operation.security ? 6 : 1, arbitrary: fc.constantFrom('admin', 'publisher', 'auditor').map((r) => `Bearer ${tokens[r]}`) },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: garbageString.map((g) => `Bearer ${g}`) },
      { weight: 1, arbitrary: garbageString },
      { weight: 1, arbitrary: fc.constantFrom('admin', 'publisher').map((r) => `Bearer ${tokens[r]!.slice(0, -3)}${'AAA'}`) },
    );
    const contentType = fc.oneof(
      { weight: 6, arbitrary: fc.constant('application/json') },
      { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/problem+json', '') },
      { weight: 1, arbitrary: garbageString },
    );
    const requestId = fc.option(garbageString, { freq: 6, nil: undefined });
    return fc.record({ pathParams, query, extraQuery, body, authorization, contentType, requestId }).map((g) => {
      let path = op.path;
      for (const [name, v] of Object.entries(g.pathParams)) path = path.replace(`{${name}}`, encodeURIComponent(String(v)));
      const search = new URLSearchParams(Object.entries(g.query).map(([k, v]): [string, string] => [k, String(v)]));
      if (g.extraQuery) search.append(g.extraQuery[0], g.extraQuery[1]);
      const qs = search.toString();
      const headers: Record<string, string> = {};
      const safe = (v: string) => v.replace(/[^\t\x20-\x7e]/g, '');
      if (g.authorization !== undefined) headers.authorization = safe(g.authorization);
      if (g.body !== undefined && g.contentType !== '') headers['content-type'] = safe(g.contentType);
      if (g.requestId !== undefined) headers['x-request-id'] = safe(g.requestId);
      return { operationId: op.operationId, method: op.method, url: qs ? `${path}?${qs}` : path, headers, ...(g.body !== undefined ? { payload: g.body } : {}) };
    });
  }

  it('regressions the fuzzer found: NUL in a path, query or body string, a path segment over 256 characters, an infinite number in a query, are 400 problems', async () => {
    const cases = [
      { method: 'GET', url: '/v1/models/%00/x/versions/1/bundle' },
      { method: 'GET', url: '/v1/signatures?model=a%00/b' },
      { method: 'GET', url: `/v1/models/${'a'.repeat(300)}/x/versions/1/bundle` },
      { method: 'GET', url: '/v1/admin/audit?cursor=1e400', headers: bearer(tokens.admin!) },
      { method: 'GET', url: '/v1/signatures?limit=1e400' },
      { method: 'POST', url: '/v1/admin/publishers', headers: bearer(tokens.admin!), payload: { name: 'nul\u0000co', namespaces: ['nul'] } },
    ] as const;
    for (const c of cases) {
      const res = await t.app.inject(c as never);
      assert.equal(res.statusCode, 400, `${c.method} ${c.url}: ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(res.json().code, 'validation_failed');
    }
    // Free text that no pattern guards reaches the database: still a 400, never a 500.
    const kid = t.services.keys.signer('log').kid;
    const revoked = await t.app.inject({ method: 'POST', url: `/v1/admin/keys/${kid}/revoke`, headers: bearer(tokens.admin!), payload: { compromisedAt: new Date().toISOString(), reason: 'nul\u0000reason' } });
    assert.equal(revoked.statusCode, 400, revoked.body);
    assert.equal(revoked.json().code, 'validation_failed');
    const verify = await t.app.inject({ method: 'POST', url: '/v1/verify', payload: { bundle: { '\u0000': 1 } } });
    assert.ok(verify.statusCode < 500, verify.body);
  });

  it(`${RUNS} generated requests: no 5xx, every error a documented problem (seed ${SEED})`, { timeout: 30 * 60_000 }, async () => {
    const operations = t.app.openapi.operations;
    const documentedCodes = new Set((t.app.openapi.doc as { components: { schemas: { Problem: { properties: { code: { enum: string[] } } } } } }).components.schemas.Problem.properties.code.enum);
    const statuses = new Map<string, number>();
    console.log(`# fuzz: ${RUNS} requests over ${operations.length} operations, seed ${SEED} (replay: MODELSIGN_FUZZ_SEED=${SEED})`);
    await fc.assert(
      // The operations that must get past validation are drawn five times as often, so adding
      // routes does not starve them of the few requests whose body and token are both right (at
      // three times, seed 970990095 drew no successful signReleases once the witness routes came).
      fc.asyncProperty(fc.oneof(...operations.map((op) => ({ weight: MUST_SUCCEED.includes(op.operationId) ? 5 : 1, arbitrary: requestFor(op) }))), async (g) => {
        const res = await t.app.inject({ method: g.method as 'GET', url: g.url, headers: g.headers, ...(g.payload !== undefined ? { payload: g.payload } : {}) });
        statuses.set(`${g.operationId} ${res.statusCode}`, (statuses.get(`${g.operationId} ${res.statusCode}`) ?? 0) + 1);
        const where = `${g.method} ${g.url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
        assert.ok(res.statusCode < 500, where);
        if (res.statusCode < 400) return;
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/, where);
        const body = res.json() as { code: string; status: number; detail: string };
        assert.ok(body.code in ERRORS && documentedCodes.has(body.code), `undocumented code: ${where}`);
        assert.equal(body.status, res.statusCode, where);
        assert.equal(problem(body.code as keyof typeof ERRORS, '').status, res.statusCode, where);
        assert.ok(typeof body.detail === 'string' && body.detail.length > 0, where);
        const op = operations.find((o) => o.operationId === g.operationId)!;
        const documented = String(res.statusCode) in (op.operation.responses as object);
        assert.ok(documented || ANY_ROUTE.has(body.code), `${g.operationId} answered ${res.statusCode} (${body.code}), which openapi.yaml does not list: ${where}`);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false, verbose: 1 },
    );
    const health = await t.app.inject({ url: '/healthz' });
    assert.equal(health.statusCode, 200);
    const ok = [...statuses].filter(([k]) => /\s2\d\d$/.test(k)).reduce((n, [, c]) => n + c, 0);
    console.log(`# fuzz: ${ok} answers 2xx; per operation and status: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    // The generator must reach past validation, or the run proves little (checked on full runs).
    if (RUNS >= 5_000) for (const operationId of MUST_SUCCEED) {
      assert.ok([...statuses.keys()].some((k) => k.startsWith(`${operationId} 2`)), `${operationId} never succeeded`);
    }
  });
});
