// Trusted publishing end to end against a real OIDC issuer on 127.0.0.1 (discovery, JWKS, key
// rotation): GitHub- and GitLab-shaped ID tokens exchanged for publisher tokens that sign, the
// identity recorded and shown to whom it may be shown, and every refusal of the table in
// docs/design/trusted-publishing.md, row by row, with its code and status and no token minted.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { toBase64Url, utf8 } from '../../src/core/bytes.ts';
import { bearer, createTestApp, MutableClock, sha, testKek, type TestApp } from '../support/app.ts';
import { githubClaims, gitlabClaims, TestIssuer } from '../support/oidc-issuer.ts';

const files = (c: string) => [{ path: 'model.safetensors', sha256: sha(c), size: 10 }];

describe('trusted publishing (OIDC ID token → publisher token)', () => {
  let t: TestApp;
  let admin: string;
  let github: TestIssuer;
  let gitlab: TestIssuer;
  let stranger: TestIssuer;
  let githubRule: string;
  const clock = new MutableClock();
  const kek = testKek();

  const exchange = (token: string, app = t) => app.app.inject({ method: 'POST', url: '/v1/oidc/token', payload: { token } });
  const minted = async () => Number((await t.services.db.query<{ n: string }>('SELECT count(*)::text AS n FROM "tokens" WHERE "exchange_id" IS NOT NULL'))[0]!.n);
  const signWith = (token: string, model: string, version: string, c = 'a') =>
    t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: { model, version, files: files(c) } });
  const addRule = (publisher: string, body: object) => t.app.inject({ method: 'POST', url: `/v1/admin/publishers/${publisher}/trusted-publishers`, headers: bearer(admin), payload: body });

  before(async () => {
    clock.set(new Date()); // the ID tokens below are issued at the wall clock's now
    [github, gitlab, stranger] = await Promise.all([TestIssuer.start(), TestIssuer.start(), TestIssuer.start()]);
    t = await createTestApp({ clock, kek, oidc: { jwksCooldownMs: 0 } });
    admin = await t.adminToken();
    await t.services.publishers.create({ name: 'acme', namespaces: ['acme', 'acme-private'] }, 'test');
    await t.services.publishers.create({ name: 'sdlab', namespaces: ['sdlab'] }, 'test');
    for (const [issuer, kind] of [[github, 'github'], [gitlab, 'gitlab']] as const) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(admin), payload: { url: issuer.url, kind } });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().jwksUri, `${issuer.url}/jwks`);
    }
    const rule = await addRule('acme', {
      issuer: github.url,
      namespaces: ['acme'],
      publicRepository: true,
      github: { repository: 'Acme-Org/Llama-FT', repositoryOwnerId: '65', workflow: 'release.yml', environment: 'Release', refs: ['refs/tags/v*'] },
    });
    assert.equal(rule.statusCode, 201, rule.body);
    githubRule = rule.json().id;
    assert.equal(rule.json().rule.repositoryId, null, 'left empty: pinned by the first exchange');
    const gl = await addRule('sdlab', { issuer: gitlab.url, namespaces: ['sdlab'], gitlab: { projectPath: 'acme-group/sd-models', ciConfigPath: '.gitlab-ci.yml', environment: 'production' } });
    assert.equal(gl.statusCode, 201, gl.body);
  });
  after(async () => {
    await t?.close();
    await Promise.all([github?.close(), gitlab?.close(), stranger?.close()]);
  });

  it('publishes its audience: the public URL', async () => {
    const res = await t.app.inject({ url: '/v1/oidc/audience' });
    assert.deepEqual(res.json(), { audience: 'https://tlog.modelsign.test' });
  });

  it('a GitHub Actions ID token gets a 15-minute publisher token that signs; admins see the CI identity, the public only the issuer kind and the (public) repository', async () => {
    const idToken = await github.sign(githubClaims());
    const res = await exchange(idToken);
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    assert.equal(body.publisher, 'acme');
    assert.deepEqual(body.namespaces, ['acme']);
    const lifetime = new Date(body.expiresAt).getTime() - clock.now().getTime();
    assert.ok(lifetime <= 15 * 60_000 && lifetime > 14 * 60_000, `lives ${lifetime} ms`);
    const signed = await signWith(body.token, 'acme/llama-ft', '1.0');
    assert.equal(signed.statusCode, 201, signed.body);
    const id = signed.json().id;
    assert.deepEqual(signed.json().identity, { method: 'oidc', issuerKind: 'github', repository: 'acme-org/llama-ft' });

    const pub = (await t.app.inject({ url: `/v1/signatures/${id}` })).json();
    assert.equal(pub.publisher, 'acme');
    assert.deepEqual(pub.identity, { method: 'oidc', issuerKind: 'github', repository: 'acme-org/llama-ft' });
    // The claims' own values, not a bare run number, which a random UUID or signature can hold. The
    // ids are looked for as JSON strings: this is the log's first entry, so no logIndex or treeSize
    // is "74" or "65". The signed payload is decoded so that a claim put into it is caught too.
    const publicText = JSON.stringify(pub) + Buffer.from(pub.bundle.dsseEnvelope.payload, 'base64').toString('utf8');
    for (const secret of ['actions/runs/4242', '/workflows/', 'release.yml', 'b'.repeat(40), 'octocat', 'refs/tags/', 'github-hosted', '"74"', '"65"']) {
      assert.ok(!publicText.includes(secret), `no run, workflow, commit or repository id in public: ${secret}`);
    }

    const full = await t.app.inject({ url: `/v1/admin/signatures/${id}`, headers: bearer(admin) });
    assert.equal(full.statusCode, 200, full.body);
    const signer = full.json().signer;
    assert.equal(signer.method, 'oidc');
    assert.equal(signer.issuer, github.url);
    assert.equal(signer.ruleId, githubRule);
    assert.equal(signer.sourceRepositoryIdentifier, '74');
    assert.equal(signer.sourceRepositoryOwnerIdentifier, '65');
    assert.equal(signer.sourceRepositoryDigest, 'b'.repeat(40));
    assert.equal(signer.sourceRepositoryRef, 'refs/tags/v1.0');
    assert.equal(signer.buildConfigUri, `${new URL(github.url).origin}/acme-org/llama-ft/.github/workflows/release.yml@refs/tags/v1.0`);
    assert.match(signer.runInvocationUri, /\/acme-org\/llama-ft\/actions\/runs\/4242\/attempts\/1$/);
    assert.equal(signer.deploymentEnvironment, 'release');
    assert.equal(signer.runnerEnvironment, 'github-hosted');
    assert.equal(signer.tokenJti, body.jti);

    const audit = (await t.app.inject({ url: '/v1/admin/audit?limit=100', headers: bearer(admin) })).json().items as { action: string; details: Record<string, unknown> }[];
    const exchanged = audit.find((e) => e.action === 'oidc.exchange')!;
    assert.equal((exchanged.details.identity as { sourceRepositoryUri: string }).sourceRepositoryUri.endsWith('/acme-org/llama-ft'), true);
    const pin = audit.find((e) => e.action === 'trusted_publisher.pin')!;
    assert.deepEqual(pin.details, { repositoryId: '74' });
    const rules = (await t.app.inject({ url: '/v1/admin/publishers/acme/trusted-publishers', headers: bearer(admin) })).json().items;
    assert.equal(rules[0].rule.repositoryId, '74', 'pinned');
    // The ID token itself is kept nowhere: not in the audit trail, the logs, or the database.
    const everything = JSON.stringify(audit) + t.logs.join('\n') + JSON.stringify(await t.services.db.query('SELECT * FROM "oidc_exchanges"'));
    assert.ok(!everything.includes(idToken.split('.')[2]!), 'the ID token is not stored or logged');
  });

  it('a GitLab CI ID token signs too; the repository stays private, personal claims are not kept', async () => {
    const res = await exchange(await gitlab.sign(gitlabClaims()));
    assert.equal(res.statusCode, 201, res.body);
    const signed = await signWith(res.json().token, 'sdlab/sdxl', '2.0');
    assert.equal(signed.statusCode, 201, signed.body);
    const id = signed.json().id;
    assert.deepEqual((await t.app.inject({ url: `/v1/signatures/${id}` })).json().identity, { method: 'oidc', issuerKind: 'gitlab' });
    const signer = (await t.app.inject({ url: `/v1/admin/signatures/${id}`, headers: bearer(admin) })).json().signer;
    assert.equal(signer.sourceRepositoryIdentifier, '20');
    assert.equal(signer.buildSignerUri, 'https://gitlab.example.com/acme-group/sd-models//.gitlab-ci.yml@refs/tags/v2.0');
    assert.match(signer.runInvocationUri, /\/acme-group\/sd-models\/-\/jobs\/302$/);
    const stored = JSON.stringify(await t.services.db.query('SELECT "identity" FROM "oidc_exchanges"')) + JSON.stringify(await t.services.db.query('SELECT "details" FROM "audit_events"'));
    assert.doesNotMatch(stored, /someone@example\.com|user_login/);
  });

  it('follows the issuer\'s key rotation: a token signed by a new key is accepted after one JWKS fetch', async () => {
    const before = github.jwksRequests();
    await github.rotate({ withdrawOld: true });
    const res = await exchange(await github.sign(githubClaims()));
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(github.jwksRequests(), before + 1);
  });

  it('a token minted by an exchange signs only under the rule\'s namespaces, not all of its publisher\'s', async () => {
    const token = (await exchange(await github.sign(githubClaims()))).json().token;
    const res = await signWith(token, 'acme-private/model', '1');
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 'forbidden_namespace');
  });

  const now = () => Math.floor(Date.now() / 1000);
  // How each row of the refusal table (docs/design/trusted-publishing.md) is driven here, and
  // what its detail must say; the limit and key rows are driven in the second suite.
  const token = (make: () => Promise<string>) => async () => exchange(await make());
  type Answer = Awaited<ReturnType<typeof exchange>>;
  const drivers: Record<string, [() => Promise<Answer>, RegExp?]> = {
    'not-a-jws': [token(async () => 'not.a-token')],
    'unknown-issuer': [token(() => stranger.sign(githubClaims()))],
    'alg-none': [token(async () => `${toBase64Url(utf8(JSON.stringify({ alg: 'none', typ: 'JWT', kid: github.currentKid })))}.${toBase64Url(utf8(JSON.stringify({ iss: github.url, ...githubClaims(), iat: now(), exp: now() + 300, jti: 'none-1' })))}.`), /alg/],
    'alg-hmac': [token(() => new SignJWT({ iss: github.url, ...githubClaims(), iat: now(), exp: now() + 300, jti: 'hs-1' }).setProtectedHeader({ alg: 'HS256', kid: github.currentKid }).sign(utf8(github.publicPem))), /alg/],
    'no-kid': [token(() => github.sign(githubClaims(), { kid: null })), /kid/],
    'unknown-kid': [token(() => github.sign(githubClaims(), { kid: 'never-had-this-key' })), /kid/],
    'wrong-audience': [token(() => github.sign(githubClaims({ aud: 'https://elsewhere.example' }))), /aud/],
    'audience-list': [token(() => github.sign(githubClaims({ aud: ['https://tlog.modelsign.test', 'other'] }))), /one string/],
    'no-iat': [token(() => github.sign(githubClaims({ iat: undefined }))), /no iat claim/],
    'no-exp': [token(() => github.sign(githubClaims({ exp: undefined }))), /no exp claim/],
    'no-jti': [token(() => github.sign(githubClaims({ jti: undefined }))), /no jti claim/],
    'iat-not-a-number': [token(() => github.sign(githubClaims({ iat: String(now()) }))), /iat claim that is not a number/],
    expired: [token(() => github.sign(githubClaims({ iat: now() - 400, nbf: now() - 400, exp: now() - 100 })))],
    'not-yet-valid': [token(() => github.sign(githubClaims({ nbf: now() + 600 }))), /nbf/],
    'issued-in-future': [token(() => github.sign(githubClaims({ iat: now() + 600, nbf: undefined, exp: now() + 900 })))],
    'too-old': [token(() => github.sign(githubClaims({ iat: now() - 20 * 60, nbf: now() - 20 * 60, exp: now() + 300 })))],
    'owner-id': [token(() => github.sign(githubClaims({ repository_owner_id: '9999' }))), /repository_owner_id/],
    'repository-id': [token(() => github.sign(githubClaims({ repository_id: '75' }))), /repository_id/],
    'pull-request-target': [token(() => github.sign(githubClaims({ event_name: 'pull_request_target' }))), /pull_request_target/],
    'self-hosted': [token(() => github.sign(githubClaims({ runner_environment: 'self-hosted' }))), /runner_environment/],
    workflow: [token(() => github.sign(githubClaims({ workflow_ref: 'acme-org/llama-ft/.github/workflows/ci.yml@refs/heads/main' }))), /workflow_ref/],
    environment: [token(() => github.sign(githubClaims({ environment: 'staging' }))), /environment/],
    ref: [token(() => github.sign(githubClaims({ ref: 'refs/heads/main' }))), /\bref\b/],
    'no-rule': [token(() => github.sign(githubClaims({ repository: 'evil/llama-ft' }))), /^no trusted-publisher rule allows this token$/],
    'gitlab-fork-merge-request': [token(() => gitlab.sign(gitlabClaims({ project_path: 'mallory/sd-models', namespace_id: '99', pipeline_source: 'merge_request_event' }))), /^no trusted-publisher rule allows this token$/],
    'gitlab-merge-request': [token(() => gitlab.sign(gitlabClaims({ pipeline_source: 'merge_request_event', ref_protected: 'false' }))), /pipeline_source/],
    'gitlab-unprotected-ref': [token(() => gitlab.sign(gitlabClaims({ ref_protected: 'false' }))), /ref_protected/],
    'publisher-disabled': [
      async () => {
        await t.services.publishers.update('acme', { disabled: true }, 'test');
        try {
          return await exchange(await github.sign(githubClaims()));
        } finally {
          await t.services.publishers.update('acme', { disabled: false }, 'test');
        }
      },
    ],
    replayed: [
      async () => {
        const idToken = await github.sign(githubClaims());
        assert.equal((await exchange(idToken)).statusCode, 201);
        const before = await minted();
        const again = await exchange(idToken);
        assert.equal(await minted(), before);
        return again;
      },
    ],
  };
  const table = refusalTable();
  it('drives every row of the refusal table, and every driver has a row', () => {
    const rows = new Set(table.map((r) => r.row));
    const driven = new Set([...Object.keys(drivers), ...SECOND_SUITE_ROWS]);
    assert.deepEqual([...rows].filter((r) => !driven.has(r)), [], 'rows without a test');
    assert.deepEqual([...driven].filter((r) => !rows.has(r)), [], 'tests without a row');
  });
  for (const row of table.filter((r) => drivers[r.row])) {
    it(`refuses ${row.condition}: ${row.status} ${row.code} (row ${row.row}), and mints nothing more`, async () => {
      const [drive, detail] = drivers[row.row]!;
      const before = await minted();
      const res = await drive();
      assert.equal(res.statusCode, row.status, res.body);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(res.json().code, row.code);
      if (detail) assert.match(res.json().detail, detail);
      if (row.row !== 'replayed') assert.equal(await minted(), before);
    });
  }

  it('fetches nothing from an issuer no admin configured', async () => {
    await exchange(await stranger.sign(githubClaims()));
    assert.deepEqual(stranger.requests, []);
  });

  it('exchanges each ID token once: a replay is 409 oidc_token_reused, and two instances racing mint exactly one token', async () => {
    const idToken = await github.sign(githubClaims());
    assert.equal((await exchange(idToken)).statusCode, 201);
    const again = await exchange(idToken);
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'oidc_token_reused');

    const other = await createTestApp({ database: t.database, clock, kek, oidc: { jwksCooldownMs: 0 } });
    try {
      for (let round = 0; round < 3; round++) {
        const racing = await github.sign(githubClaims());
        const before = await minted();
        const answers = await Promise.all([exchange(racing), exchange(racing, other)]);
        assert.deepEqual(answers.map((a) => a.statusCode).sort(), [201, 409], answers.map((a) => a.body).join('\n'));
        assert.equal(await minted(), before + 1);
      }
    } finally {
      await other.close();
    }
  });

  it('a minted token is refused after 15 minutes, after its rule is deleted, and after its publisher is disabled', async () => {
    const fresh = async () => (await exchange(await github.sign(githubClaims()))).json().token as string;
    const late = await fresh();
    clock.advance(15 * 60_000 + 1_000);
    try {
      const res = await signWith(late, 'acme/llama-ft', 'late');
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().code, 'token_expired');
    } finally {
      clock.set(new Date());
    }

    const token = await fresh();
    assert.equal((await signWith(token, 'acme/llama-ft', '1.1', 'c')).statusCode, 201);
    await t.services.publishers.update('acme', { disabled: true }, 'test');
    assert.equal((await signWith(token, 'acme/llama-ft', '1.2', 'd')).json().code, 'publisher_disabled');
    const whileDisabled = await exchange(await github.sign(githubClaims()));
    assert.equal(whileDisabled.json().code, 'publisher_disabled');
    await t.services.publishers.update('acme', { disabled: false }, 'test');

    const doomed = await fresh();
    assert.equal((await signWith(doomed, 'acme/llama-ft', '1.3', 'e')).statusCode, 201);
    const del = await t.app.inject({ method: 'DELETE', url: `/v1/admin/publishers/acme/trusted-publishers/${githubRule}`, headers: bearer(admin) });
    assert.equal(del.statusCode, 204);
    const refused = await signWith(doomed, 'acme/llama-ft', '1.4', 'f');
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.json().code, 'token_revoked');
    assert.match(refused.json().detail, /rule/);
    assert.equal((await exchange(await github.sign(githubClaims()))).json().code, 'invalid_publisher');
  });
});

describe('trusted publishing: limits and issuer configuration', () => {
  let t: TestApp;
  let issuer: TestIssuer;
  let admin: string;
  const kek = testKek();
  before(async () => {
    issuer = await TestIssuer.start();
    t = await createTestApp({ kek, oidcExchangesPerMinute: 4, oidc: { perRepositoryPerHour: 2 } });
    admin = await t.adminToken();
  });
  after(async () => {
    await t?.close();
    await issuer?.close();
  });

  it('refuses an issuer whose discovery names another issuer, an http issuer without MODELSIGN_OIDC_ALLOW_INSECURE, and a rule of the wrong shape', async () => {
    issuer.claimedIssuer = 'https://token.actions.githubusercontent.com';
    const confused = await t.app.inject({ method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(admin), payload: { url: issuer.url, kind: 'github' } });
    assert.equal(confused.statusCode, 422);
    assert.equal(confused.json().code, 'invalid_oidc_issuer');
    issuer.claimedIssuer = undefined;
    const strict = await createTestApp({ database: t.database, kek, oidc: { allowInsecure: false } });
    try {
      const res = await strict.app.inject({ method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(await strict.adminToken()), payload: { url: issuer.url, kind: 'github' } });
      assert.equal(res.json().code, 'invalid_oidc_issuer');
      assert.match(res.json().detail, /https/);
    } finally {
      await strict.close();
    }
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(admin), payload: { url: issuer.url, kind: 'github' } })).statusCode, 201);
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(admin), payload: { url: issuer.url, kind: 'github' } })).json().code, 'oidc_issuer_exists');
    await t.services.publishers.create({ name: 'acme', namespaces: ['acme'] }, 'test');
    const bad = [
      { issuer: issuer.url, namespaces: ['acme'], gitlab: { projectPath: 'a/b', ciConfigPath: '.gitlab-ci.yml' } },
      { issuer: issuer.url, namespaces: ['other'], github: { repository: 'acme-org/x', repositoryOwnerId: '1', workflow: 'release.yml' } },
      { issuer: 'https://nowhere.example', namespaces: ['acme'], github: { repository: 'acme-org/x', repositoryOwnerId: '1', workflow: 'release.yml' } },
    ];
    for (const body of bad) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/admin/publishers/acme/trusted-publishers', headers: bearer(admin), payload: body });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().code, 'invalid_trusted_publisher');
    }
    // A rule missing a field its kind requires is refused by the request schema (openapi.yaml, GithubRuleInput).
    const missing = await t.app.inject({ method: 'POST', url: '/v1/admin/publishers/acme/trusted-publishers', headers: bearer(admin), payload: { issuer: issuer.url, namespaces: ['acme'], github: { repository: 'acme-org/x', workflow: 'release.yml' } } });
    assert.equal(missing.statusCode, 400, missing.body);
    assert.equal(missing.json().code, 'validation_failed');
    assert.match(missing.json().detail, /repositoryOwnerId/);
    const ok = await t.app.inject({ method: 'POST', url: '/v1/admin/publishers/acme/trusted-publishers', headers: bearer(admin), payload: { issuer: issuer.url, namespaces: ['acme'], github: { repository: 'acme-org/llama-ft', repositoryOwnerId: '65', workflow: 'release.yml' } } });
    assert.equal(ok.statusCode, 201, ok.body);
    const inUse = await t.app.inject({ method: 'DELETE', url: `/v1/admin/oidc-issuers/${(await t.services.trustedPublishers.listIssuers())[0]!.id}`, headers: bearer(admin) });
    assert.equal(inUse.json().code, 'oidc_issuer_in_use');
  });

  it('answers 429 with Retry-After past the per-repository and the per-address limits (rows repository-limit, address-limit)', async () => {
    const row = (name: string) => refusalTable().find((r) => r.row === name)!;
    const exchange = async () => t.app.inject({ method: 'POST', url: '/v1/oidc/token', payload: { token: await issuer.sign(githubClaims()) } });
    assert.equal((await exchange()).statusCode, 201);
    assert.equal((await exchange()).statusCode, 201);
    const repo = await exchange();
    assert.equal(repo.statusCode, row('repository-limit').status, repo.body);
    assert.equal(repo.json().code, row('repository-limit').code);
    assert.match(repo.json().detail, /repository/);
    assert.ok(Number(repo.headers['retry-after']) > 0);
    // The fourth request from this address this minute was the last allowed.
    await exchange();
    const address = await exchange();
    assert.equal(address.statusCode, row('address-limit').status);
    assert.equal(address.json().code, row('address-limit').code);
    assert.match(address.json().detail, /address/);
    assert.ok(Number(address.headers['retry-after']) > 0);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /modelsign_oidc_exchanges_total\{result="rate_limited"\} 3/);
    assert.match(metrics, /modelsign_oidc_exchanges_total\{result="minted"\} 2/);
  });

  it('answers 503 when the issuer\'s keys cannot be fetched and none are known (row keys-unavailable)', async () => {
    const row = refusalTable().find((r) => r.row === 'keys-unavailable')!;
    // Its own service: this suite's address limit is spent by the test above.
    const fresh = await createTestApp({ kek });
    const gone = await TestIssuer.start();
    try {
      const added = await fresh.app.inject({ method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(await fresh.adminToken()), payload: { url: gone.url, kind: 'github' } });
      assert.equal(added.statusCode, 201, added.body);
      const idToken = await gone.sign(githubClaims());
      await gone.close();
      const res = await fresh.app.inject({ method: 'POST', url: '/v1/oidc/token', payload: { token: idToken } });
      assert.equal(res.statusCode, row.status, res.body);
      assert.equal(res.json().code, row.code);
    } finally {
      await fresh.close();
      await gone.close().catch(() => {});
    }
  });
});

/** Rows the second suite drives (limits and an issuer whose keys cannot be fetched). */
const SECOND_SUITE_ROWS = ['repository-limit', 'address-limit', 'keys-unavailable'];

/** The refusal table of docs/design/trusted-publishing.md: row, condition, code, status. */
function refusalTable(): { row: string; condition: string; code: string; status: number }[] {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/design/trusted-publishing.md', import.meta.url)), 'utf8');
  const section = doc.slice(doc.indexOf('## Refusals of `POST /v1/oidc/token`'));
  const body = section.slice(0, section.indexOf('\n## ', 5));
  const rows = [...body.matchAll(/^\| `([a-z-]+)` \| (.+?) \| `([a-z_]+)` \| (\d{3}) \|$/gm)].map((m) => ({ row: m[1]!, condition: m[2]!, code: m[3]!, status: Number(m[4]) }));
  assert.ok(rows.length >= 30, `${rows.length} rows read from the refusal table`);
  return rows;
}
