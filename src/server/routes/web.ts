// The web console's pages (src/web): `/` and its assets, from memory (web-assets.ts), under a
// Content-Security-Policy of their own: scripts, styles and fetches from this origin only, no
// inline script or style, no framing (`/` and its hashing worker may also compile WebAssembly).
// The API keeps its `default-src 'none'`.
// The admin console is /admin (its own script). MODELSIGN_WEB=public answers 404 for it, off for
// everything here; a console that cannot be built answers a clear 503.
import type { FastifyInstance } from 'fastify';
import type { RouteOf } from '../../api/wire.ts';
import { sendProblem } from '../plugins/errors.ts';
import { loadWebAssets, type WebAssets } from '../web-assets.ts';

export type WebMode = 'all' | 'public' | 'off';

export const WEB_CSP =
  "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/**
 * The public page and its hashing worker may compile WebAssembly (hash-wasm's SHA-256, four times
 * the speed of JavaScript): 'wasm-unsafe-eval' allows exactly that, never JavaScript eval
 * ('unsafe-eval' is never sent). /admin and every other asset keep WEB_CSP.
 */
export const VERIFY_CSP = WEB_CSP.replace("script-src 'self';", "script-src 'self' 'wasm-unsafe-eval';");
const isHashWorker = (name: string) => /^hash-worker-[A-Z0-9]+\.js$/.test(name);

export default async function webRoutes(app: FastifyInstance, options: { mode: WebMode }) {
  let assets: WebAssets | undefined;
  let failure: string | undefined;
  if (options.mode !== 'off') {
    try {
      assets = await loadWebAssets();
      app.log.debug({ source: assets.source }, 'web console loaded');
    } catch (err) {
      failure = (err as Error).message;
      app.log.error({ err: failure }, 'the web console could not be built; / answers 503 (run npm run build:web)');
    }
  }

  app.get('/', { schema: app.openapi.routeSchema('getConsole') }, async (request, reply) => {
    if (options.mode === 'off') return sendProblem(request, reply, 'route_not_found', 'the web console is turned off (MODELSIGN_WEB=off)');
    if (!assets) return sendProblem(request, reply, 'unavailable', `the web console could not be built (${failure}); the API works; an operator runs npm run build:web`);
    return reply.header('content-security-policy', VERIFY_CSP).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(assets.index);
  });

  app.get('/admin', { schema: app.openapi.routeSchema('getAdminConsole') }, async (request, reply) => {
    if (options.mode !== 'all') return sendProblem(request, reply, 'route_not_found', `the admin console is turned off (MODELSIGN_WEB=${options.mode})`);
    if (!assets) return sendProblem(request, reply, 'unavailable', `the web console could not be built (${failure}); the API works; an operator runs npm run build:web`);
    return reply.header('content-security-policy', WEB_CSP).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(assets.admin);
  });

  app.get<RouteOf<'getConsoleAsset'>>('/assets/:name', { schema: app.openapi.routeSchema('getConsoleAsset') }, async (request, reply) => {
    const file = assets?.files.get(request.params.name);
    const adminOnly = request.params.name.startsWith('admin-');
    if (options.mode === 'off' || !file || (adminOnly && options.mode !== 'all')) return sendProblem(request, reply, 'not_found', `no console asset ${JSON.stringify(request.params.name)}`);
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).header('etag', file.etag).send();
    // Names carry their content hash: a new build is a new name, so a copy never goes stale.
    return reply
      .header('content-security-policy', isHashWorker(request.params.name) ? VERIFY_CSP : WEB_CSP)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('etag', file.etag)
      .type(file.type)
      .send(file.body);
  });
}
