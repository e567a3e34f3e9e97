// The network side of trusted publishing: an issuer's discovery document (fetched once, when an
// admin adds the issuer) and its signing keys (JWKS), kept per issuer.
//
// Not jose's createRemoteJWKSet: when its cache is older than cacheMaxAge it reloads before trying
// a known key, and if that fetch fails every token fails, while a signing service must keep
// accepting tokens signed by keys it already holds when the issuer is briefly unreachable. Keys
// are fetched again only for a kid not yet seen (at most once per cooldown: a stream of made-up
// kids costs the issuer one request a minute) or when they are older than KEYS_MAX_AGE_MS (so a
// key the issuer withdrew stops being accepted); a failed or empty answer keeps the last good keys.
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { ModelsignError } from '../core/errors.ts';
import { isObject } from '../core/guards.ts';

const FETCH_TIMEOUT_MS = 5_000;
const MAX_DOCUMENT_BYTES = 256 * 1024;
/** Known keys are re-read after this long (failures keep them). */
const KEYS_MAX_AGE_MS = 60 * 60_000;

export type Fetch = typeof fetch;

/** Whether `url` may be an issuer or JWKS URL: https, or http when insecure issuers are allowed (tests). */
export function assertIssuerUrl(url: string, allowInsecure: boolean, what = 'the issuer'): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ModelsignError('invalid_oidc_issuer', `${what} must be an absolute URL, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'https:' && !(allowInsecure && parsed.protocol === 'http:')) {
    throw new ModelsignError('invalid_oidc_issuer', `${what} must be an https URL${parsed.protocol === 'http:' ? ' (http only with MODELSIGN_OIDC_ALLOW_INSECURE=1, for tests)' : ''}`);
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash) throw new ModelsignError('invalid_oidc_issuer', `${what} must have no credentials, query or fragment`);
  return parsed;
}

async function fetchJson(fetcher: Fetch, url: string): Promise<unknown> {
  const response = await fetcher(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`larger than ${MAX_DOCUMENT_BYTES} bytes`);
  return JSON.parse(text) as unknown;
}

/** Fetches `{issuer}/.well-known/openid-configuration`; its `issuer` must be exactly `issuer` (OIDC Discovery 1.0 §4.3). */
export async function discoverIssuer(issuer: string, allowInsecure: boolean, fetcher: Fetch = fetch): Promise<{ jwksUri: string; algorithms: string[] | undefined }> {
  assertIssuerUrl(issuer, allowInsecure);
  const where = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let document: unknown;
  try {
    document = await fetchJson(fetcher, where);
  } catch (err) {
    throw new ModelsignError('invalid_oidc_issuer', `could not read ${where}: ${(err as Error).message}`);
  }
  if (!isObject(document) || document.issuer !== issuer) {
    throw new ModelsignError('invalid_oidc_issuer', `the discovery document names issuer ${JSON.stringify(isObject(document) ? document.issuer : undefined)}, not ${JSON.stringify(issuer)}`);
  }
  if (typeof document.jwks_uri !== 'string') throw new ModelsignError('invalid_oidc_issuer', 'the discovery document has no jwks_uri');
  assertIssuerUrl(document.jwks_uri, allowInsecure, 'the jwks_uri');
  const algs = document.id_token_signing_alg_values_supported;
  return { jwksUri: document.jwks_uri, algorithms: Array.isArray(algs) && algs.every((a) => typeof a === 'string') ? (algs as string[]) : undefined };
}

interface KeySet {
  kids: Set<string>;
  resolve: JWTVerifyGetKey;
  fetchedAt: number;
}

export interface IssuerKeysOptions {
  /** At most one fetch for an unknown kid per this many ms. */
  cooldownMs: number;
  fetch?: Fetch;
  /** Milliseconds on the service's clock (OidcExchange passes the injected one): cache ages and fetch pacing. */
  now: () => number;
  /** Told when a fetch fails (the last good keys stay in use). */
  onFetchFailure?: (jwksUri: string, err: unknown) => void;
}

/** The signing keys of one issuer. */
export class IssuerKeys {
  private keys: KeySet | undefined;
  private lastUnknownKidFetch = -Infinity;
  private inflight: Promise<void> | undefined;

  constructor(
    readonly jwksUri: string,
    private readonly options: IssuerKeysOptions,
  ) {}

  /** The key resolver for a token whose header names `kid`; throws oidc_token_invalid for a kid the issuer does not have. */
  async forKid(kid: string): Promise<JWTVerifyGetKey> {
    const now = this.options.now();
    if (!this.keys) await this.load();
    else if (now - this.keys.fetchedAt > KEYS_MAX_AGE_MS) await this.load();
    else if (!this.keys.kids.has(kid) && now - this.lastUnknownKidFetch >= this.options.cooldownMs) {
      this.lastUnknownKidFetch = now;
      await this.load();
    }
    if (!this.keys) throw new ModelsignError('oidc_keys_unavailable', 'the issuer\'s signing keys could not be fetched');
    if (!this.keys.kids.has(kid)) throw new ModelsignError('oidc_token_invalid', 'the ID token\'s kid is not among the issuer\'s signing keys');
    return this.keys.resolve;
  }

  private load(): Promise<void> {
    // Concurrent exchanges share one request.
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    try {
      const jwks = await fetchJson(this.options.fetch ?? fetch, this.jwksUri);
      if (!isObject(jwks) || !Array.isArray(jwks.keys)) throw new Error('not a JWK set');
      const keys = jwks.keys.filter((k): k is Record<string, unknown> => isObject(k) && typeof k.kid === 'string' && typeof k.kty === 'string');
      // An empty set is a broken issuer, not a reason to forget keys that worked.
      if (keys.length === 0) throw new Error('no keys with a kid');
      this.keys = { kids: new Set(keys.map((k) => k.kid as string)), resolve: createLocalJWKSet({ keys } as unknown as JSONWebKeySet), fetchedAt: this.options.now() };
    } catch (err) {
      this.options.onFetchFailure?.(this.jwksUri, err);
      // Retry a failed refresh no sooner than a minute, not on every request.
      if (this.keys) this.keys.fetchedAt = Math.max(this.keys.fetchedAt, this.options.now() - KEYS_MAX_AGE_MS + 60_000);
    }
  }
}
