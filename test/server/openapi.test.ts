// The routes are exactly the operations of openapi.yaml, every response the service
// gives in a scripted session validates against the schema documented for its status and media
// type, and Redocly's linter passes the document.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';
import { githubClaims, TestIssuer } from '../support/oidc-issuer.ts';
import { TestWitness } from '../support/test-witness.ts';
import type { Services } from '../../src/services/index.ts';

// The one documented exception: a tile path holds slashes, which an OpenAPI path parameter cannot,
// so getTile's `{tilePath}` is the catch-all route `/v1/log/tile/*`.
const toFastifyPath = (p: string) => (p === '/v1/log/tile/{tilePath}' ? '/v1/log/tile/*' : p.replace(/\{([^}]+)\}/g, ':$1'));

describe('openapi.yaml', () => {
  let t: TestApp;
  let witness: TestWitness;
  before(async () => {
    // A witnessed log, so the witness routes answer what they answer in production.
    const holder: { services?: Services } = {};
    witness = await new TestWitness({ index: 7, logs: [{ origin: 'tlog.modelsign.test', key: () => holder.services?.keys.list().find((k) => k.purpose === 'log' && k.status === 'active') }] }).start();
    t = await createTestApp({ witnesses: { policy: `${witness.policyLine('w')}\nquorum w\n` }, onServices: (s) => (holder.services = s) });
  });
  after(async () => {
    await t.close();
    await witness.close();
  });

  it('describes exactly the routes the service has', () => {
    const documented = t.app.openapi.operations.map((o) => `${o.method} ${toFastifyPath(o.path)}`).sort();
    assert.deepEqual([...t.app.routeTable].sort(), documented);
    assert.equal(new Set(t.app.openapi.operations.map((o) => o.operationId)).size, documented.length, 'operationIds are unique');
  });

  it('documents every response of a scripted session, and each body validates', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const seen = new Set<string>();
    const check = (operationId: string, res: LightMyRequestResponse) => {
      const op = t.app.openapi.operations.find((o) => o.operationId === operationId)!;
      const responses = op.operation.responses as Record<string, { content?: Record<string, { schema: object }> }>;
      const documented = responses[String(res.statusCode)];
      assert.ok(documented, `${operationId} answered ${res.statusCode}, which is not documented`);
      seen.add(`${operationId} ${res.statusCode}`);
      if (res.statusCode === 204 || res.statusCode === 304) return;
      const mediaType = String(res.headers['content-type']).split(';')[0]!;
      const media = documented.content?.[mediaType];
      assert.ok(media, `${operationId} ${res.statusCode} sent ${mediaType}, which is not documented`);
      if (mediaType.endsWith('json')) {
        const validate = ajv.compile(media.schema);
        assert.ok(validate(res.json()), `${operationId} ${res.statusCode}: ${ajv.errorsText(validate.errors)}\n${res.body.slice(0, 400)}`);
      }
    };
    const inject = async (operationId: string, opts: InjectOptions) => {
      const res = await t.app.inject(opts);
      check(operationId, res);
      return res;
    };

    const admin = await t.adminToken();
    await inject('getHealth', { url: '/healthz' });
    await inject('getReadiness', { url: '/readyz' });
    await inject('getOpenApi', { url: '/openapi.yaml' });
    await inject('getDocs', { url: '/docs' });
    const page = await inject('getConsole', { url: '/' });
    for (const name of [...page.body.matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((m) => m[1]!)) {
      const asset = await inject('getConsoleAsset', { url: `/assets/${name}` });
      await inject('getConsoleAsset', { url: `/assets/${name}`, headers: { 'if-none-match': String(asset.headers.etag) } });
    }
    await inject('getConsoleAsset', { url: '/assets/nope.js' });
    await inject('getAdminConsole', { url: '/admin' });
    await inject('getMetrics', { url: '/metrics' });
    const publisher = await inject('createPublisher', { method: 'POST', url: '/v1/admin/publishers', headers: bearer(admin), payload: { name: 'acme', namespaces: ['acme'] } });
    await inject('createPublisher', { method: 'POST', url: '/v1/admin/publishers', headers: bearer(admin), payload: { name: 'acme', namespaces: ['acme'] } });
    await inject('createPublisher', { method: 'POST', url: '/v1/admin/publishers', headers: bearer(admin), payload: { name: 'x' } });
    await inject('createPublisher', { method: 'POST', url: '/v1/admin/publishers', payload: { name: 'x', namespaces: ['x'] } });
    await inject('listPublishers', { url: '/v1/admin/publishers', headers: bearer(admin) });
    await inject('listPublishers', { url: '/v1/admin/publishers' });
    const token = await inject('issueToken', { method: 'POST', url: '/v1/admin/tokens', headers: bearer(admin), payload: { role: 'publisher', publisher: publisher.json().id, ttl: '1h' } });
    await inject('issueToken', { method: 'POST', url: '/v1/admin/tokens', headers: bearer(admin), payload: { role: 'publisher', publisher: 'ghost', ttl: '1h' } });
    await inject('issueToken', { method: 'POST', url: '/v1/admin/tokens', headers: bearer(admin), payload: { role: 'admin', ttl: '1h' } });
    await inject('issueToken', { method: 'POST', url: '/v1/admin/tokens', headers: bearer(token.json().token), payload: { role: 'admin', subject: 'x', ttl: '1h' } });
    await inject('issueToken', { method: 'POST', url: '/v1/admin/tokens', headers: { ...bearer(admin), 'content-type': 'text/plain' }, payload: 'x' });
    const pub = token.json().token;
    const body = { model: 'acme/tiny', version: '1.0', files: [{ path: 'a.bin', sha256: sha('a'), size: 1 }] };
    const signed = await inject('signRelease', { method: 'POST', url: '/v1/signatures', headers: bearer(pub), payload: body });
    await inject('signRelease', { method: 'POST', url: '/v1/signatures', headers: bearer(pub), payload: body });
    await inject('signRelease', { method: 'POST', url: '/v1/signatures', headers: bearer(pub), payload: { ...body, files: [{ path: 'b', sha256: sha('b'), size: 1 }] } });
    await inject('signRelease', { method: 'POST', url: '/v1/signatures', headers: bearer(pub), payload: { ...body, model: 'other/x' } });
    await inject('signRelease', { method: 'POST', url: '/v1/signatures', headers: bearer(pub), payload: { ...body, files: [{ path: '../x', sha256: sha('b'), size: 1 }] } });
    await inject('signRelease', { method: 'POST', url: '/v1/signatures', payload: body });
    await inject('signRelease', { method: 'POST', url: '/v1/signatures', headers: { ...bearer(pub), 'content-type': 'application/json' }, payload: JSON.stringify({ ...body, pad: 'x'.repeat(4_300_000) }) });
    await inject('listSignatures', { url: '/v1/signatures?model=acme/tiny&limit=1' });
    await inject('listSignatures', { url: '/v1/signatures?limit=1000' });
    await inject('getSignature', { url: `/v1/signatures/${signed.json().id}` });
    await inject('getSignature', { url: '/v1/signatures/unknown' });
    await inject('getSignatureProof', { url: '/v1/signatures/unknown/tlog-proof' });
    for (let i = 0; i < 500; i++) {
      const proof = await inject('getSignatureProof', { url: `/v1/signatures/${signed.json().id}/tlog-proof` });
      if (proof.statusCode === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await inject('getLatestCheckpoint', { url: '/v1/log/checkpoint/latest' });
    await inject('getLogVkey', { url: '/v1/log/vkey' });
    await inject('getLogWitnesses', { url: '/v1/log/witnesses' });
    const kid = signed.json().kid;
    await inject('listKeys', { url: '/v1/keys' });
    await inject('getKey', { url: `/v1/keys/${kid}` });
    await inject('getKey', { url: `/v1/keys/${sha('0')}` });
    await inject('getReleaseBundle', { url: '/v1/models/acme/tiny/versions/1.0/bundle' });
    await inject('getReleaseBundle', { url: '/v1/models/acme/tiny/versions/9/bundle' });
    await inject('verifyBundle', { method: 'POST', url: '/v1/verify', payload: { bundle: signed.json().bundle } });
    await inject('verifyBundle', { method: 'POST', url: '/v1/verify', payload: { bundle: {} } });
    await inject('verifyBundle', { method: 'POST', url: '/v1/verify', payload: { files: [] } });
    await inject('getKeyChain', { url: '/v1/keys/chain' });
    await inject('getTrustedRoot', { url: '/v1/trusted-root' });
    const release = t.services.keys.list().find((k) => k.purpose === 'release' && k.algorithm === 'Ed25519' && k.status === 'active')!.kid;
    await inject('rotateKey', { method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'release', expectedActive: release } });
    await inject('rotateKey', { method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'release', expectedActive: release } });
    await inject('rotateKey', { method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(admin), payload: { purpose: 'nope' } });
    await inject('rotateKey', { method: 'POST', url: '/v1/admin/keys/rotate', headers: bearer(pub), payload: { purpose: 'log' } });
    await inject('countKeySignatures', { url: `/v1/admin/keys/${release}/signature-count?compromisedAt=${new Date(0).toISOString()}`, headers: bearer(admin) });
    await inject('countKeySignatures', { url: `/v1/admin/keys/${release}/signature-count`, headers: bearer(admin) });
    await inject('countKeySignatures', { url: `/v1/admin/keys/${sha('9')}/signature-count?compromisedAt=${new Date(0).toISOString()}`, headers: bearer(admin) });
    await inject('countKeySignatures', { url: `/v1/admin/keys/${release}/signature-count?compromisedAt=${new Date(0).toISOString()}`, headers: bearer(pub) });
    await inject('revokeKey', { method: 'POST', url: `/v1/admin/keys/${release}/revoke`, headers: bearer(admin), payload: { compromisedAt: new Date().toISOString(), reason: 'test' } });
    await inject('revokeKey', { method: 'POST', url: `/v1/admin/keys/${release}/revoke`, headers: bearer(admin), payload: { compromisedAt: new Date().toISOString(), reason: 'test' } });
    await inject('revokeKey', { method: 'POST', url: `/v1/admin/keys/${sha('9')}/revoke`, headers: bearer(admin), payload: { compromisedAt: new Date().toISOString(), reason: 'test' } });
    await inject('revokeKey', { method: 'POST', url: `/v1/admin/keys/${release}/revoke`, headers: bearer(admin), payload: { compromisedAt: 'yesterday', reason: 'test' } });
    await inject('updatePublisher', { method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(admin), payload: { namespaces: ['acme', 'acme-labs'] } });
    await inject('updatePublisher', { method: 'PATCH', url: '/v1/admin/publishers/ghost', headers: bearer(admin), payload: { disabled: true } });
    await inject('updatePublisher', { method: 'PATCH', url: '/v1/admin/publishers/acme', headers: bearer(admin), payload: {} });
    await inject('listTokens', { url: '/v1/admin/tokens?limit=5', headers: bearer(admin) });
    await inject('listTokens', { url: '/v1/admin/tokens?status=active&publisher=acme', headers: bearer(admin) });
    await inject('listTokens', { url: '/v1/admin/tokens?publisher=ghost', headers: bearer(admin) });
    await inject('listTokens', { url: '/v1/admin/tokens', headers: bearer(pub) });
    await inject('listTokens', { url: '/v1/admin/tokens?limit=0', headers: bearer(admin) });
    await inject('listSignatures', { url: '/v1/signatures?namespace=acme' });
    await inject('listAuditEvents', { url: '/v1/admin/audit?limit=5', headers: bearer(admin) });
    await inject('verifyAuditChain', { url: '/v1/admin/audit/chain', headers: bearer(admin) });
    await inject('verifyAuditChain', { url: '/v1/admin/audit/chain', headers: bearer(pub) });
    await inject('listAuditEvents', { url: '/v1/admin/audit', headers: bearer(pub) });
    await inject('listAuditEvents', { url: '/v1/admin/audit?limit=0', headers: bearer(admin) });
    const checkpoint = await inject('getCheckpoint', { url: '/v1/log/checkpoint' });
    await inject('getCheckpoint', { url: '/v1/log/checkpoint', headers: { 'if-none-match': String(checkpoint.headers.etag) } });
    await inject('getTile', { url: '/v1/log/tile/0/000.p/1' });
    await inject('getTile', { url: '/v1/log/tile/entries/000.p/1' });
    await inject('getTile', { url: '/v1/log/tile/0/000' });
    await inject('getTile', { url: '/v1/log/tile/0/0000' });
    await inject('getInclusionProof', { url: '/v1/log/proofs/inclusion?index=0' });
    await inject('getInclusionProof', { url: '/v1/log/proofs/inclusion?index=0&treeSize=99' });
    await inject('getInclusionProof', { url: '/v1/log/proofs/inclusion?index=x' });
    await inject('getConsistencyProof', { url: '/v1/log/proofs/consistency?from=1&to=1' });
    await inject('getConsistencyProof', { url: '/v1/log/proofs/consistency?from=2&to=1' });
    await inject('getLogEntries', { url: '/v1/log/entries?start=0&end=1' });
    await inject('getLogEntries', { url: '/v1/log/entries?start=0&end=5000' });
    // Batch signing and trusted publishing (a real issuer on 127.0.0.1).
    await inject('signReleases', { method: 'POST', url: '/v1/signatures/batch', headers: bearer(pub), payload: { items: [body, { ...body, version: '2.0' }, { ...body, model: 'other/x' }] } });
    await inject('signReleases', { method: 'POST', url: '/v1/signatures/batch', headers: bearer(admin), payload: { items: [body] } });
    await inject('signReleases', { method: 'POST', url: '/v1/signatures/batch', headers: bearer(pub), payload: { items: [] } });
    await inject('getSignatureIdentity', { url: `/v1/admin/signatures/${signed.json().id}`, headers: bearer(admin) });
    await inject('getSignatureIdentity', { url: `/v1/admin/signatures/${sha('0').slice(0, 36)}`, headers: bearer(admin) });
    await inject('getSignatureIdentity', { url: `/v1/admin/signatures/${signed.json().id}`, headers: bearer(pub) });
    const [issuer, gitlabIssuer, genericIssuer] = await Promise.all([TestIssuer.start(), TestIssuer.start(), TestIssuer.start()]);
    try {
      await inject('getOidcAudience', { url: '/v1/oidc/audience' });
      await inject('listOidcIssuers', { url: '/v1/admin/oidc-issuers', headers: bearer(admin) });
      issuer.claimedIssuer = 'https://elsewhere.example';
      await inject('addOidcIssuer', { method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(admin), payload: { url: issuer.url, kind: 'github' } });
      issuer.claimedIssuer = undefined;
      const added = await inject('addOidcIssuer', { method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(admin), payload: { url: issuer.url, kind: 'github' } });
      await inject('addOidcIssuer', { method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(admin), payload: { url: issuer.url, kind: 'github' } });
      await inject('addOidcIssuer', { method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(admin), payload: { url: issuer.url, kind: 'jenkins' } });
      const ruleBody = { issuer: issuer.url, namespaces: ['acme'], publicRepository: true, github: { repository: 'acme-org/llama-ft', repositoryOwnerId: '65', workflow: 'release.yml' } };
      const rule = await inject('addTrustedPublisher', { method: 'POST', url: '/v1/admin/publishers/acme/trusted-publishers', headers: bearer(admin), payload: ruleBody });
      await inject('addTrustedPublisher', { method: 'POST', url: '/v1/admin/publishers/acme/trusted-publishers', headers: bearer(admin), payload: { ...ruleBody, github: { repository: 'x' } } });
      await inject('addTrustedPublisher', { method: 'POST', url: '/v1/admin/publishers/ghost/trusted-publishers', headers: bearer(admin), payload: ruleBody });
      // A rule of each kind: each answer validates against its kind's schema (the rule is a oneOf by kind).
      for (const [other, kind, rule] of [
        [gitlabIssuer, 'gitlab', { projectPath: 'acme-group/sd-models', ciConfigPath: '.gitlab-ci.yml', environment: 'production', refs: ['refs/tags/v*'] }],
        [genericIssuer, 'generic', { conditions: [{ claim: 'repository', op: 'equals', value: 'acme-org/x' }, { claim: 'ref', op: 'in', value: ['refs/tags/v1', 'refs/tags/v2'] }] }],
      ] as const) {
        await inject('addOidcIssuer', { method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(admin), payload: { url: other.url, kind } });
        const made = await inject('addTrustedPublisher', { method: 'POST', url: '/v1/admin/publishers/acme/trusted-publishers', headers: bearer(admin), payload: { issuer: other.url, namespaces: ['acme'], [kind]: rule } });
        assert.equal(made.statusCode, 201, made.body);
        assert.equal(made.json().rule.kind, kind);
      }
      await inject('addTrustedPublisher', { method: 'POST', url: '/v1/admin/publishers/acme/trusted-publishers', headers: bearer(admin), payload: { issuer: genericIssuer.url, namespaces: ['acme'], generic: { conditions: [{ claim: 'ref', op: 'in', value: 'refs/tags/v1' }] } } });
      const listed = await inject('listTrustedPublishers', { url: '/v1/admin/publishers/acme/trusted-publishers', headers: bearer(admin) });
      assert.deepEqual(listed.json().items.map((r: { rule: { kind: string } }) => r.rule.kind).sort(), ['generic', 'github', 'gitlab']);
      await inject('listTrustedPublishers', { url: '/v1/admin/publishers/ghost/trusted-publishers', headers: bearer(admin) });
      const idToken = await issuer.sign(githubClaims());
      const exchanged = await inject('exchangeOidcToken', { method: 'POST', url: '/v1/oidc/token', payload: { token: idToken } });
      await inject('exchangeOidcToken', { method: 'POST', url: '/v1/oidc/token', payload: { token: idToken } });
      await inject('exchangeOidcToken', { method: 'POST', url: '/v1/oidc/token', payload: { token: 'x.y' } });
      await inject('exchangeOidcToken', { method: 'POST', url: '/v1/oidc/token', payload: { token: await issuer.sign(githubClaims(), { kid: 'nope' }) } });
      await inject('exchangeOidcToken', { method: 'POST', url: '/v1/oidc/token', payload: { token: await issuer.sign(githubClaims({ repository_owner_id: '1' })) } });
      const viaOidc = await inject('signRelease', { method: 'POST', url: '/v1/signatures', headers: bearer(exchanged.json().token), payload: { ...body, version: 'oidc' } });
      await inject('getSignature', { url: `/v1/signatures/${viaOidc.json().id}` });
      await inject('getSignatureIdentity', { url: `/v1/admin/signatures/${viaOidc.json().id}`, headers: bearer(admin) });
      await inject('removeOidcIssuer', { method: 'DELETE', url: `/v1/admin/oidc-issuers/${added.json().id}`, headers: bearer(admin) });
      await inject('removeTrustedPublisher', { method: 'DELETE', url: `/v1/admin/publishers/acme/trusted-publishers/${rule.json().id}`, headers: bearer(admin) });
      await inject('removeTrustedPublisher', { method: 'DELETE', url: `/v1/admin/publishers/acme/trusted-publishers/${rule.json().id}`, headers: bearer(admin) });
      await inject('removeOidcIssuer', { method: 'DELETE', url: `/v1/admin/oidc-issuers/${added.json().id}`, headers: bearer(admin) });
      await inject('removeOidcIssuer', { method: 'DELETE', url: `/v1/admin/oidc-issuers/${added.json().id}`, headers: bearer(admin) });
    } finally {
      await Promise.all([issuer.close(), gitlabIssuer.close(), genericIssuer.close()]);
    }
    await inject('revokeToken', { method: 'DELETE', url: `/v1/admin/tokens/${token.json().jti}`, headers: bearer(admin) });
    await inject('revokeToken', { method: 'DELETE', url: `/v1/admin/tokens/${token.json().jti}`, headers: bearer(pub) });
    await inject('revokeToken', { method: 'DELETE', url: '/v1/admin/tokens/00000000-0000-4000-8000-000000000000', headers: bearer(admin) });

    // Every operation was exercised, with its success and error paths.
    for (const op of t.app.openapi.operations) assert.ok([...seen].some((s) => s.startsWith(`${op.operationId} 2`)), `${op.operationId} never succeeded`);
    assert.ok(seen.size >= 30, `${seen.size} distinct operation/status pairs`);
  });

  it('passes `redocly lint`', () => {
    const lint = spawnSync(process.execPath, ['node_modules/@redocly/cli/bin/cli.js', 'lint', 'openapi.yaml', '--format=stylish'], {
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    assert.doesNotMatch(lint.stdout, /warning|error/);
  });
});
