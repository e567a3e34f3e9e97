// Trusted publishing from the CLI: in a CI job that can prove who it is with an OIDC ID token
// (GitHub Actions with `id-token: write`, GitLab with `id_tokens: MODELSIGN_ID_TOKEN`), `sign`
// fetches the token for the service's audience and exchanges it for a 15-minute publisher token.
// A failure stops the command with the reason; it never falls back to anything else (npm's silent
// fallback is the most-reported problem of its trusted publishing).
import type { ResponseOf, Wire } from '../api/wire.ts';
import type { ClientEnv } from '../config.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { failureOf, fetchJson, request } from './http.ts';

/** Which CI identity is at hand, if any. */
function ciIdentitySource(env: ClientEnv['ci']): 'github' | 'env' | undefined {
  if (env.githubRequestUrl) return 'github';
  if (env.idToken) return 'env';
  return undefined;
}

async function githubIdToken(env: ClientEnv['ci'], audience: string): Promise<string> {
  if (!env.githubRequestToken) throw new CliFailure(EXIT.auth, 'trusted publishing: ACTIONS_ID_TOKEN_REQUEST_URL is set but ACTIONS_ID_TOKEN_REQUEST_TOKEN is not; give the job `permissions: id-token: write`');
  let url: URL;
  try {
    url = new URL(env.githubRequestUrl!);
  } catch {
    throw new CliFailure(EXIT.auth, 'trusted publishing: ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
  }
  url.searchParams.set('audience', audience);
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `bearer ${env.githubRequestToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new CliFailure(EXIT.service, `trusted publishing: cannot reach GitHub's ID-token endpoint: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as { value?: unknown } | undefined;
  if (!res.ok || typeof body?.value !== 'string') throw new CliFailure(EXIT.auth, `trusted publishing: GitHub did not give an ID token (HTTP ${res.status})`);
  return body.value;
}

/** A publisher token minted from the CI's ID token; throws a one-line CliFailure when that fails. */
export async function exchangeCiToken(server: string, env: ClientEnv['ci']): Promise<{ token: string; publisher: string; via: string }> {
  const source = ciIdentitySource(env);
  if (!source) throw new CliFailure(EXIT.usage, 'give a publisher token (--token or MODELSIGN_TOKEN), or run in CI with an ID token (GitHub Actions with id-token: write, or MODELSIGN_ID_TOKEN)');
  let idToken: string;
  if (source === 'github') {
    const { audience } = (await fetchJson(server, '/v1/oidc/audience')) as ResponseOf<'getOidcAudience', 200>;
    idToken = await githubIdToken(env, audience);
  } else {
    idToken = env.idToken!;
  }
  const { status, body } = await request(server, '/v1/oidc/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: idToken }) });
  if (status !== 201) {
    const failure = failureOf(status, body, `trusted publishing: the service refused the ${source === 'github' ? 'GitHub Actions' : 'MODELSIGN_ID_TOKEN'} ID token`);
    // Any refusal of the exchange is a refused credential (6), whatever its status; outages stay 5.
    throw status >= 400 && status < 500 ? new CliFailure(EXIT.auth, failure.message) : failure;
  }
  const minted = body as Wire['OidcToken'];
  return { token: minted.token, publisher: minted.publisher, via: source === 'github' ? 'GitHub Actions' : 'MODELSIGN_ID_TOKEN' };
}
