// The public API the pages read, same origin, no credentials. Every answer is JSON or a
// problem+json whose `detail` the page shows as it is.
import type { Wire } from '../api/wire.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** What went wrong, in words: the API's problem `detail` and code, or the error's message. */
export function problemText(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

export async function getJson<T>(path: string): Promise<T> {
  return call<T>('GET', path);
}

/**
 * One API call. The admin console passes its bearer token here (never a cookie: the service
 * reads tokens from the Authorization header only, so there is no session to forge a request in).
 */
export async function call<T>(method: string, path: string, options: { body?: unknown; token?: string; fresh?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  // The console reads what it just changed: past the browser's cache (GET /v1/keys is cacheable).
  const cache: RequestCache = options.fresh || options.token ? 'no-store' : 'default';
  const res = await fetch(path, { method, headers, credentials: 'omit', cache, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'not_json', `the service answered ${res.status} without JSON`);
  }
  if (!res.ok) {
    const p = body as { code?: string; detail?: string };
    throw new ApiError(res.status, p.code ?? 'error', p.detail ?? `the service answered ${res.status}`);
  }
  return body as T;
}

export const api = {
  signaturesByModel: (model: string, version?: string) => getJson<Wire['SignatureList']>(`/v1/signatures?model=${encodeURIComponent(model)}${version ? `&version=${encodeURIComponent(version)}` : ''}&limit=50`),
  signaturesByNamespace: (namespace: string) => getJson<Wire['SignatureList']>(`/v1/signatures?namespace=${encodeURIComponent(namespace)}&limit=50`),
  signaturesByDigest: (sha256: string) => getJson<Wire['SignatureList']>(`/v1/signatures?sha256=${sha256}&limit=50`),
  signature: (id: string) => getJson<Wire['Signature']>(`/v1/signatures/${encodeURIComponent(id)}`),
  keys: () => getJson<Wire['Jwks']>('/v1/keys'),
  logEntry: (index: number) => getJson<{ entries: { index: number; signatureId: string }[] }>(`/v1/log/entries?start=${index}&end=${index + 1}`),
  /** Entries [start, end), cut at the newest checkpoint (treeSize says where). */
  logEntries: (start: number, end: number) => getJson<Wire['LogEntries']>(`/v1/log/entries?start=${start}&end=${end}`),
  newestSignatures: (limit: number, cursor?: string) => getJson<Wire['SignatureList']>(`/v1/signatures?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
};
