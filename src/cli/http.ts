// Talking to a modelsign service from the client commands: one line for every failure.
import { errorSpec } from '../core/errors.ts';
import { CliFailure, EXIT, exitCodeOf } from './exit-codes.ts';

export function serverUrl(text: string | undefined): URL {
  if (!text) throw new CliFailure(EXIT.usage, 'say which service: --server URL or MODELSIGN_SERVER');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliFailure(EXIT.usage, `--server ${JSON.stringify(text)} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliFailure(EXIT.usage, `--server must be http:// or https://, got ${url.protocol}`);
  return url;
}

export async function request(server: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, serverUrl(server));
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    const inner = (err as { cause?: { code?: string; errors?: { code?: string }[]; message?: string } }).cause;
    const cause = inner?.code ?? inner?.errors?.[0]?.code ?? inner?.message ?? (err as Error).message;
    throw new CliFailure(EXIT.service, `cannot reach ${url.origin}: ${cause === 'ECONNREFUSED' ? 'connection refused (is the service running?)' : cause}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

/** A problem+json answer as the one line a user needs. */
export function failureOf(status: number, body: unknown, what: string): CliFailure {
  const p = (typeof body === 'object' && body !== null ? body : {}) as { code?: string; detail?: string };
  const line = `${what}: ${status}${p.code ? ` ${p.code}` : ''}${p.detail ? `: ${p.detail}` : ''}`;
  // A coded problem exits as the same failure in-process would (core's ERRORS table); an answer
  // without a code (a proxy's page, an older service) by its status.
  if (typeof p.code === 'string' && errorSpec(p.code)) return new CliFailure(exitCodeOf(p.code), line);
  if (status === 401 || status === 403) return new CliFailure(EXIT.auth, line);
  if (status >= 500 || (status === 404 && !p.code)) return new CliFailure(EXIT.service, line);
  return new CliFailure(EXIT.refused, line);
}

export async function fetchJson(server: string, path: string): Promise<unknown> {
  const { status, body } = await request(server, path, { headers: { accept: 'application/json' } });
  if (status !== 200) throw failureOf(status, body, `GET ${path}`);
  if (typeof body !== 'object') throw new CliFailure(EXIT.service, `GET ${path} did not answer JSON`);
  return body;
}
