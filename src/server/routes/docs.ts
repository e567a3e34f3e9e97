// The contract, and a small human-readable index of it. No external assets: the page must work
// on a machine without internet access.
import type { FastifyInstance } from 'fastify';
import { REASON_CODES } from '../../core/verdict.ts';
import { ERROR_CATALOGUE } from '../problem.ts';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export default async function docsRoutes(app: FastifyInstance) {
  const operations = app.openapi.operations
    .map((o) => `<tr><td><code>${o.method}</code></td><td><code>${escape(o.path)}</code></td><td>${escape(String(o.operation.summary ?? ''))}</td></tr>`)
    .join('\n');
  const errors = ERROR_CATALOGUE.map((e) => `<tr id="${e.code}"><td><code>${e.code}</code></td><td>${e.status}</td><td>${escape(e.description)}</td></tr>`).join('\n');
  const reasons = Object.entries(REASON_CODES)
    .map(([code, text]) => `<tr id="reason-${code}"><td><code>${code}</code></td><td>${escape(text)}</td></tr>`)
    .join('\n');
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>modelsign API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}td{padding:.2rem .6rem;vertical-align:top}table{border-collapse:collapse}tr:nth-child(even){background:#f4f4f4}</style></head>
<body><h1>modelsign API</h1><p>The full contract is <a href="/openapi.yaml">/openapi.yaml</a> (OpenAPI 3.1).</p>
<h2>Operations</h2><table>${operations}</table>
<h2>Error codes</h2><p>Errors are <code>application/problem+json</code> with one of these codes.</p><table>${errors}</table>
<h2>Verification reasons</h2><table>${reasons}</table></body></html>`;

  app.get('/openapi.yaml', { schema: app.openapi.routeSchema('getOpenApi') }, async (_request, reply) =>
    reply.type('application/yaml; charset=utf-8').send(app.openapi.text),
  );
  app.get('/docs', { schema: app.openapi.routeSchema('getDocs') }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
}
