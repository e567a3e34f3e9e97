// The console's files (src/web, bundled by esbuild): built at install (scripts/build-web.ts
// writes dist/web), loaded from there while that build is newer than every file under src/web
// and src/core, and otherwise built again in memory when the service starts (about 100 ms), so an edited
// checkout never serves stale pages. Served from memory under content-hashed names.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
}

export interface WebAssets {
  /** The page at /, naming the hashed assets. */
  index: Buffer;
  /** The admin console's page at /admin. */
  admin: Buffer;
  /** By file name (`main-3F2A….js`). */
  files: Map<string, WebFile>;
  /** Where they came from, for the startup log. */
  source: 'prebuilt' | 'built at start';
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WEB_SOURCE = path.join(ROOT, 'src', 'web');
export const WEB_DIST = path.join(ROOT, 'dist', 'web');
// The pages bundle the portable verifier and the content check from here.
const CORE_SOURCE = path.join(ROOT, 'src', 'core');

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** esbuild's options for the console: the public pages' module script, the hashing worker's, the admin console's and one stylesheet, hashed names. */
export function webBuildOptions(outdir: string) {
  return {
    entryPoints: [path.join(WEB_SOURCE, 'main.ts'), path.join(WEB_SOURCE, 'hash-worker.ts'), path.join(WEB_SOURCE, 'admin-main.ts'), path.join(WEB_SOURCE, 'styles.css')],
    outdir,
    bundle: true,
    minify: true,
    format: 'esm' as const,
    platform: 'browser' as const,
    target: ['chrome120', 'firefox120', 'safari16'],
    entryNames: '[name]-[hash]',
    logLevel: 'warning' as const,
    metafile: true,
  };
}

/** The newest time stamp of what goes into the bundle (.ts and .css files). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (/\.(ts|css)$/.test(entry.name)) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

export function indexPage(script: string, stylesheet: string, worker: string): Buffer {
  return Buffer.from(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>modelsign</title>
<link rel="icon" href="data:,">
<meta name="modelsign-worker" content="/assets/${worker}">
<link rel="stylesheet" href="/assets/${stylesheet}">
<script type="module" src="/assets/${script}"></script>
</head>
<body>
<header><h1><a href="#/">modelsign</a></h1><nav aria-label="Pages"><a href="#/">Search</a> · <a href="#/verify">Verify files</a> · <a href="#/keys">Keys</a> · <a href="#/log">Log</a></nav><p>Signed model releases: who signed them, with which key, and their entries in the transparency log.</p></header>
<main id="content" tabindex="-1"><noscript><p>This page needs JavaScript. The same data is in the API: <a href="/docs">/docs</a>.</p></noscript></main>
</body>
</html>
`);
}

export function adminPage(script: string, stylesheet: string): Buffer {
  return Buffer.from(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>modelsign admin</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${stylesheet}">
<script type="module" src="/assets/${script}"></script>
</head>
<body>
<header><h1><a href="/admin">modelsign admin</a></h1><nav aria-label="Site"><a href="/">Public pages</a></nav><p id="who" aria-live="polite"></p></header>
<main id="content" tabindex="-1"><noscript><p>The console needs JavaScript. The same actions are in the API (<a href="/docs">/docs</a>) and the CLI (modelsign admin).</p></noscript></main>
</body>
</html>
`);
}

function assemble(outputs: { name: string; body: Buffer }[], source: WebAssets['source']): WebAssets {
  const files = new Map<string, WebFile>();
  for (const { name, body } of outputs) {
    const type = TYPES[path.extname(name)];
    if (!type) continue;
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  const script = [...files.keys()].find((n) => /^main-[A-Z0-9]+\.js$/.test(n));
  const stylesheet = [...files.keys()].find((n) => /^styles-[A-Z0-9]+\.css$/.test(n));
  const worker = [...files.keys()].find((n) => /^hash-worker-[A-Z0-9]+\.js$/.test(n));
  const admin = [...files.keys()].find((n) => /^admin-main-[A-Z0-9]+\.js$/.test(n));
  if (!script || !stylesheet || !worker || !admin) throw new Error('the console build lacks one of main-*.js, hash-worker-*.js, admin-main-*.js, styles-*.css');
  return { index: indexPage(script, stylesheet, worker), admin: adminPage(admin, stylesheet), files, source };
}

let loading: Promise<WebAssets> | undefined;

/** The prebuilt files when they are newer than every source file; otherwise a build in memory. Once per process. */
export function loadWebAssets(): Promise<WebAssets> {
  loading ??= load();
  // A failed build is tried again by the next instance built in this process.
  loading.catch(() => (loading = undefined));
  return loading;
}

async function load(): Promise<WebAssets> {
  try {
    const built = statSync(path.join(WEB_DIST, 'manifest.json')).mtimeMs;
    if (built > Math.max(newestSource(WEB_SOURCE), newestSource(CORE_SOURCE))) {
      const names = JSON.parse(readFileSync(path.join(WEB_DIST, 'manifest.json'), 'utf8')) as string[];
      return assemble(names.map((name) => ({ name, body: readFileSync(path.join(WEB_DIST, name)) })), 'prebuilt');
    }
  } catch {
    // Missing or unreadable: built below.
  }
  const esbuild = await import('esbuild');
  try {
    const result = await esbuild.build({ ...webBuildOptions('/web-out'), write: false });
    return assemble(result.outputFiles.map((f) => ({ name: path.basename(f.path), body: Buffer.from(f.contents) })), 'built at start');
  } finally {
    // esbuild keeps a helper process for later builds; there are none.
    await esbuild.stop();
  }
}
