// A real OIDC issuer on 127.0.0.1 for the trusted-publishing tests: discovery, a JWKS, RS256 keys
// it can rotate, and ID tokens shaped like GitHub Actions' and GitLab CI's. Built on jose (a few
// dozen lines) rather than oauth2-mock-server, to serve exactly what a test needs: rotated or
// withdrawn keys, forged headers, and a count of every request (to show nothing was fetched).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type CryptoKey } from 'jose';

interface IssuerKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  spki: string;
}

export class TestIssuer {
  /** Paths requested, in order. */
  readonly requests: string[] = [];
  private keys: IssuerKey[] = [];
  private published: IssuerKey[] = [];
  /** When set, the discovery document names this issuer instead (issuer confusion). */
  claimedIssuer: string | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<TestIssuer> {
    let issuer: TestIssuer | undefined;
    const server = createServer((req, res) => {
      issuer!.requests.push(req.url ?? '');
      if (req.url === '/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ issuer: issuer!.claimedIssuer ?? issuer!.url, jwks_uri: `${issuer!.url}/jwks`, id_token_signing_alg_values_supported: ['RS256'] }));
      } else if (req.url === '/jwks') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: issuer!.published.map((k) => k.publicJwk) }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = new TestIssuer(server, `http://127.0.0.1:${(server.address() as { port: number }).port}`);
    await issuer.rotate();
    return issuer;
  }

  /** A new signing key, published beside the old ones (unless `withdrawOld`); tokens are signed with it from now on. */
  async rotate(options: { withdrawOld?: boolean } = {}): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID();
    const key = { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }, spki: await exportSPKI(publicKey) };
    this.keys.push(key);
    this.published = options.withdrawOld ? [key] : [...this.published, key];
    return kid;
  }

  get currentKid(): string {
    return this.keys[this.keys.length - 1]!.kid;
  }

  /** The current key's public key as PEM (for the HS256-with-the-public-key attack). */
  get publicPem(): string {
    return this.keys[this.keys.length - 1]!.spki;
  }

  jwksRequests(): number {
    return this.requests.filter((r) => r === '/jwks').length;
  }

  /** Signs `claims` (iss, iat, exp, nbf and jti filled in unless given) with the current key. */
  async sign(claims: Record<string, unknown>, header: { kid?: string | null; alg?: string } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const key = this.keys[this.keys.length - 1]!;
    const full = { iss: this.url, iat: now, nbf: now - 10, exp: now + 300, jti: randomUUID(), ...claims };
    const protectedHeader: Record<string, unknown> = { alg: header.alg ?? 'RS256', typ: 'JWT' };
    if (header.kid !== null) protectedHeader.kid = header.kid ?? key.kid;
    for (const [k, v] of Object.entries(full)) if (v === undefined) delete (full as Record<string, unknown>)[k];
    return new SignJWT(full).setProtectedHeader(protectedHeader as { alg: string }).sign(key.privateKey);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The claims of a GitHub Actions ID token for `owner/repo` running release.yml on a tag, by a hosted runner. */
export function githubClaims(overrides: Record<string, unknown> = {}, audience = 'https://tlog.modelsign.test'): Record<string, unknown> {
  const repository = (overrides.repository as string | undefined) ?? 'acme-org/llama-ft';
  const owner = repository.split('/')[0];
  return {
    aud: audience,
    sub: `repo:${repository}:environment:release`,
    repository,
    repository_owner: owner,
    repository_owner_id: '65',
    repository_id: '74',
    repository_visibility: 'public',
    workflow_ref: `${repository}/.github/workflows/release.yml@refs/tags/v1.0`,
    workflow_sha: 'a'.repeat(40),
    job_workflow_ref: `${repository}/.github/workflows/release.yml@refs/tags/v1.0`,
    job_workflow_sha: 'a'.repeat(40),
    ref: 'refs/tags/v1.0',
    ref_type: 'tag',
    sha: 'b'.repeat(40),
    environment: 'release',
    event_name: 'push',
    runner_environment: 'github-hosted',
    run_id: '4242',
    run_attempt: '1',
    actor: 'octocat',
    actor_id: '12',
    ...overrides,
  };
}

/** The claims of a GitLab CI ID token for group/project on a protected tag, by a GitLab-hosted runner. */
export function gitlabClaims(overrides: Record<string, unknown> = {}, audience = 'https://tlog.modelsign.test'): Record<string, unknown> {
  const projectPath = (overrides.project_path as string | undefined) ?? 'acme-group/sd-models';
  return {
    aud: audience,
    sub: `project_path:${projectPath}:ref_type:tag:ref:v2.0`,
    namespace_id: '72',
    namespace_path: projectPath.split('/')[0],
    project_id: '20',
    project_path: projectPath,
    project_visibility: 'private',
    pipeline_id: '574',
    pipeline_source: 'push',
    job_id: '302',
    ref: 'v2.0',
    ref_type: 'tag',
    ref_path: 'refs/tags/v2.0',
    ref_protected: 'true',
    environment: 'production',
    runner_environment: 'gitlab-hosted',
    sha: 'c'.repeat(40),
    ci_config_ref_uri: `gitlab.example.com/${projectPath}//.gitlab-ci.yml@refs/tags/v2.0`,
    ci_config_sha: 'c'.repeat(40),
    user_email: 'someone@example.com',
    user_login: 'someone',
    ...overrides,
  };
}
