// `modelsign sign` in CI without a token: from a simulated GitHub Actions job (this test serves
// the ACTIONS_ID_TOKEN_REQUEST_URL endpoint, which signs with a real local OIDC issuer) and with a
// GitLab-style MODELSIGN_ID_TOKEN; a failed exchange stops with one line and the auth exit code.
// Also `sign --batch` and the admin commands that set trusted publishing up.
// Runs once: its subject is the client command; the exchange is tested on both databases in test/server/trusted-publishing.test.ts.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { bearer, createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { githubClaims, TestIssuer } from '../support/oidc-issuer.ts';
import { adminCli } from '../support/admin-cli.ts';
import { runCliAsync } from '../support/process.ts';

describe('modelsign sign with trusted publishing', () => {
  let t: TestApp;
  let server: string;
  let issuer: TestIssuer;
  let actions: Server;
  let actionsUrl: string;
  const asked: string[] = [];
  let claims: Record<string, unknown> = {};
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-tp-'));

  const model = (name: string) => {
    const folder = path.join(dir, name);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'model.safetensors'), Buffer.alloc(1000, name.length));
    writeFileSync(path.join(folder, 'config.json'), `{"name": "${name}"}\n`);
    return folder;
  };

  before(async () => {
    issuer = await TestIssuer.start();
    t = await createTestApp();
    server = await listenTestApp(t);
    const admin = await t.adminToken();
    await t.services.publishers.create({ name: 'acme', namespaces: ['acme'] }, 'test');
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(admin), payload: { url: issuer.url, kind: 'github' } })).statusCode, 201);
    const rule = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/publishers/acme/trusted-publishers',
      headers: bearer(admin),
      payload: { issuer: issuer.url, namespaces: ['acme'], github: { repository: 'acme-org/llama-ft', repositoryOwnerId: '65', workflow: 'release.yml' } },
    });
    assert.equal(rule.statusCode, 201, rule.body);
    // GitHub's ID-token endpoint, as a job with `id-token: write` sees it.
    actions = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      asked.push(url.searchParams.get('audience') ?? '');
      if (req.headers.authorization !== 'bearer runtime-request-token') {
        res.statusCode = 401;
        return res.end();
      }
      void issuer.sign(githubClaims({ aud: url.searchParams.get('audience'), ...claims })).then((value) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ value }));
      });
    });
    await new Promise<void>((resolve) => actions.listen(0, '127.0.0.1', resolve));
    actionsUrl = `http://127.0.0.1:${(actions.address() as { port: number }).port}/_apis/token?api-version=2.0`;
  });
  after(async () => {
    await t?.close();
    await issuer?.close();
    actions?.closeAllConnections();
    await new Promise((resolve) => actions?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const github = { MODELSIGN_TOKEN: '', ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-request-token', MODELSIGN_ID_TOKEN: '' };
  const cli = (args: string[], env: Record<string, string> = {}) => runCliAsync(args, { MODELSIGN_SERVER: server, ...github, ACTIONS_ID_TOKEN_REQUEST_URL: actionsUrl, ...env });

  it('signs from a GitHub Actions job with no token configured: fetches an ID token for the service\'s audience and exchanges it', async () => {
    const folder = model('llama-ft');
    const res = await cli(['sign', folder, '--model', 'acme/llama-ft', '--version', '1.0', '--json']);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(asked, ['https://tlog.modelsign.test'], 'the ID token was asked for the audience the service publishes');
    const out = JSON.parse(res.stdout);
    assert.equal(out.created, true);
    assert.ok(readFileSync(path.join(folder, 'model.sig'), 'utf8').includes('dsseEnvelope'));
    const signer = (await t.app.inject({ url: `/v1/admin/signatures/${out.id}`, headers: bearer(await t.adminToken()) })).json().signer;
    assert.equal(signer.method, 'oidc');
    assert.equal(signer.sourceRepositoryIdentifier, '74');
  });

  it('signs a batch file of releases (one exchange, one request)', async () => {
    const lines = ['q4', 'q5', 'q8'].map((q) => JSON.stringify({ path: model(`llama-${q}`), model: `acme/llama-ft-${q}`, version: '1.0' }));
    const file = path.join(dir, 'batch.jsonl');
    writeFileSync(file, `# the quantisations of 1.0\n${lines.join('\n')}\n`);
    const before = asked.length;
    const res = await cli(['sign', '--batch', file, '--json']);
    assert.equal(res.status, 0, res.stderr);
    const results = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(results.map((r) => [r.release, r.status]), [['acme/llama-ft-q4@1.0', 201], ['acme/llama-ft-q5@1.0', 201], ['acme/llama-ft-q8@1.0', 201]]);
    assert.equal(asked.length, before + 1);
    const again = await cli(['sign', '--batch', file]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /already signed with the same files: acme\/llama-ft-q4@1\.0/);
  });

  it('a refused exchange exits non-zero with the reason in one line, and signs nothing', async () => {
    claims = { workflow_ref: 'acme-org/llama-ft/.github/workflows/ci.yml@refs/heads/main' };
    try {
      const res = await cli(['sign', model('llama-ci'), '--model', 'acme/llama-ft', '--version', 'ci']);
      assert.equal(res.status, EXIT.auth, res.stdout + res.stderr);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
      assert.match(res.stderr, /^modelsign: trusted publishing: .*403 invalid_publisher: .*workflow_ref/);
    } finally {
      claims = {};
    }
    const gitlab = await cli(['sign', model('llama-gl'), '--model', 'acme/llama-ft', '--version', 'gl'], { ACTIONS_ID_TOKEN_REQUEST_URL: '', MODELSIGN_ID_TOKEN: 'not-a-jwt' });
    assert.equal(gitlab.status, EXIT.auth, gitlab.stderr);
    assert.equal(gitlab.stderr.trim().split('\n').length, 1, gitlab.stderr);
    assert.match(gitlab.stderr, /MODELSIGN_ID_TOKEN ID token: 400 oidc_token_malformed/);
    const noCi = await cli(['sign', model('llama-none'), '--model', 'acme/llama-ft', '--version', 'none'], { ACTIONS_ID_TOKEN_REQUEST_URL: '' });
    assert.equal(noCi.status, EXIT.usage);
    assert.match(noCi.stderr, /give a publisher token/);
    assert.equal((await t.services.signatures.list({ model: 'acme/llama-ft', limit: 10 })).items.length, 1, 'only 1.0 was signed');
  });

  it('a service that cannot check the ID token (503 oidc_keys_unavailable: its issuer\'s keys are unreachable) exits 5, the service\'s outcome', async () => {
    const gone = await TestIssuer.start();
    try {
      const added = await t.app.inject({ method: 'POST', url: '/v1/admin/oidc-issuers', headers: bearer(await t.adminToken()), payload: { url: gone.url, kind: 'github' } });
      assert.equal(added.statusCode, 201, added.body);
      const idToken = await gone.sign(githubClaims());
      await gone.close();
      const res = await cli(['sign', model('llama-keys'), '--model', 'acme/llama-ft', '--version', 'keys'], { ACTIONS_ID_TOKEN_REQUEST_URL: '', MODELSIGN_ID_TOKEN: idToken });
      assert.equal(res.status, EXIT.service, res.stderr);
      assert.match(res.stderr, /503 oidc_keys_unavailable/);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    } finally {
      await gone.close().catch(() => {});
    }
  });
});

describe('modelsign admin oidc-issuer | trusted-publisher', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-tp-admin-'));
  let issuer: TestIssuer;
  let env: Record<string, string>;
  before(async () => {
    issuer = await TestIssuer.start();
    env = { MODELSIGN_DATA_DIR: path.join(dir, 'data'), MODELSIGN_OIDC_ALLOW_INSECURE: '1' };
  });
  after(async () => {
    await cli.close();
    await issuer?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // In this process, on one held runtime (test/support/admin-cli.ts).
  const cli = adminCli(() => env);
  const admin = (args: string[], extra: Record<string, string> = {}) => cli.run(['admin', ...args], extra);

  it('adds an issuer (discovery fetched; http refused without MODELSIGN_OIDC_ALLOW_INSECURE), a rule, lists and removes them', async () => {
    assert.equal((await admin(['publisher', 'create', 'acme', 'acme'])).status, 0);
    const insecure = await admin(['oidc-issuer', 'add', issuer.url, 'github'], { MODELSIGN_OIDC_ALLOW_INSECURE: '0' });
    assert.equal(insecure.status, EXIT.refused, insecure.stderr);
    assert.match(insecure.stderr, /^modelsign: the issuer must be an https URL.*MODELSIGN_OIDC_ALLOW_INSECURE=1/);
    const added = await admin(['oidc-issuer', 'add', issuer.url, 'github', '--max-token-age', '10m', '--json']);
    assert.equal(added.status, 0, added.stderr);
    assert.deepEqual([JSON.parse(added.stdout).jwksUri, JSON.parse(added.stdout).maxTokenAgeSeconds], [`${issuer.url}/jwks`, 600]);
    assert.ok(issuer.requests.includes('/.well-known/openid-configuration'));
    const rule = await admin(['trusted-publisher', 'add', 'acme', '--issuer', issuer.url, '--namespace', 'acme', '--rule', '{"repository": "acme-org/llama-ft", "repositoryOwnerId": "65", "workflow": "release.yml"}', '--json']);
    assert.equal(rule.status, 0, rule.stderr);
    const id = JSON.parse(rule.stdout).id as string;
    const badRule = await admin(['trusted-publisher', 'add', 'acme', '--issuer', issuer.url, '--namespace', 'acme', '--rule', '{"repository": "acme-org/llama-ft"}']);
    assert.equal(badRule.status, EXIT.refused);
    assert.match(badRule.stderr, /repositoryOwnerId/);
    const listed = JSON.parse((await admin(['trusted-publisher', 'list', 'acme', '--json'])).stdout).items;
    assert.deepEqual(listed.map((r: { id: string; rule: { workflow: string } }) => [r.id, r.rule.workflow]), [[id, 'release.yml']]);
    assert.match((await admin(['oidc-issuer', 'remove', issuer.url])).stderr, /rule\(s\) use/);
    assert.equal((await admin(['trusted-publisher', 'remove', 'acme', id])).status, 0);
    assert.equal((await admin(['oidc-issuer', 'remove', issuer.url])).status, 0);
    assert.deepEqual(JSON.parse((await admin(['oidc-issuer', 'list', '--json'])).stdout).items, []);
  });
});
