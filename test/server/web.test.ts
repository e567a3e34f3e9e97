// The web console's serving: `/` and its hashed assets from memory, with their own CSP (no
// inline script or style) while the API keeps `default-src 'none'`; long caching and ETags for
// assets; MODELSIGN_WEB=off; no markup built from strings anywhere in src/web; the first load
// within its size budget.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VERIFY_CSP, WEB_CSP } from '../../src/server/routes/web.ts';
import { createTestApp, type TestApp } from '../support/app.ts';

const WEB_SOURCE = fileURLToPath(new URL('../../src/web/', import.meta.url));

describe('the web console, served', () => {
  let t: TestApp;
  let off: TestApp;
  let publicOnly: TestApp;
  before(async () => {
    t = await createTestApp();
    off = await createTestApp({ web: 'off' });
    publicOnly = await createTestApp({ web: 'public' });
  });
  after(async () => {
    await t?.close();
    await off?.close();
    await publicOnly?.close();
  });

  const assetsOf = (html: string) => [...html.matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((m) => m[1]!);

  it('serves / with its own CSP: same-origin scripts, styles and fetches, nothing inline', async () => {
    const res = await t.app.inject({ url: '/' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    // The public page may compile WebAssembly (its hashing worker's SHA-256), never eval JavaScript.
    assert.equal(res.headers['content-security-policy'], VERIFY_CSP);
    assert.equal(VERIFY_CSP, WEB_CSP.replace("script-src 'self';", "script-src 'self' 'wasm-unsafe-eval';"));
    assert.doesNotMatch(VERIFY_CSP, /'unsafe-inline'|'unsafe-eval'|\*/);
    assert.doesNotMatch(WEB_CSP, /unsafe-inline|unsafe-eval|\*/);
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.doesNotMatch(res.body, /<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i, 'no inline script, style or handler');
    assert.deepEqual(assetsOf(res.body).map((n) => n.replace(/-[A-Z0-9]+\./, '-HASH.')), ['styles-HASH.css', 'main-HASH.js']);
    // The API keeps its own policy.
    assert.match(String((await t.app.inject({ url: '/v1/keys' })).headers['content-security-policy']), /^default-src 'none'/);
  });

  it('serves assets by hashed name, cached for a year, with ETags; only the hashing worker may compile WebAssembly; an unknown name is a 404 problem', async () => {
    const html = (await t.app.inject({ url: '/' })).body;
    const worker = /<meta name="modelsign-worker" content="\/assets\/(hash-worker-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    assert.ok(worker, 'the page names its hashing worker');
    const admin = assetsOf((await t.app.inject({ url: '/admin' })).body);
    for (const name of [...assetsOf(html), worker, ...admin]) {
      const res = await t.app.inject({ url: `/assets/${name}` });
      assert.equal(res.statusCode, 200, name);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(res.headers['content-security-policy'], name === worker ? VERIFY_CSP : WEB_CSP, name);
      assert.match(String(res.headers['content-type']), name.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      const again = await t.app.inject({ url: `/assets/${name}`, headers: { 'if-none-match': String(res.headers.etag) } });
      assert.equal(again.statusCode, 304);
    }
    const missing = await t.app.inject({ url: '/assets/main-NOPE.js' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'not_found');
  });

  it('first load of / is within 150 KB of JS and CSS gzipped', async () => {
    const html = (await t.app.inject({ url: '/' })).body;
    let total = 0;
    for (const name of assetsOf(html)) total += gzipSync((await t.app.inject({ url: `/assets/${name}` })).rawPayload).length;
    assert.ok(total > 500 && total <= 150_000, `${total} bytes gzipped`);
  });

  it('MODELSIGN_WEB=off answers 404 for the pages and their assets', async () => {
    const page = await off.app.inject({ url: '/' });
    assert.equal(page.statusCode, 404);
    assert.equal(page.json().code, 'route_not_found');
    const html = (await t.app.inject({ url: '/' })).body;
    assert.equal((await off.app.inject({ url: `/assets/${assetsOf(html)[0]}` })).statusCode, 404);
  });

  it('serves the admin console at /admin under the same CSP, with its own script; MODELSIGN_WEB=public turns off only that', async () => {
    const res = await t.app.inject({ url: '/admin' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-security-policy'], WEB_CSP);
    assert.doesNotMatch(res.body, /<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
    const assets = assetsOf(res.body);
    assert.deepEqual(assets.map((n) => n.replace(/-[A-Z0-9]+\./, '-HASH.')), ['styles-HASH.css', 'admin-main-HASH.js']);
    assert.ok(!(await t.app.inject({ url: '/' })).body.includes('admin-main-'), 'the public page does not load the admin script');
    const admin = await publicOnly.app.inject({ url: '/admin' });
    assert.equal(admin.statusCode, 404);
    assert.match(admin.json().detail, /MODELSIGN_WEB=public/);
    assert.equal((await publicOnly.app.inject({ url: `/assets/${assets[1]}` })).statusCode, 404);
    assert.equal((await publicOnly.app.inject({ url: '/' })).statusCode, 200);
    assert.equal((await publicOnly.app.inject({ url: `/assets/${assets[0]}` })).statusCode, 200);
    assert.equal((await off.app.inject({ url: '/admin' })).statusCode, 404);
  });

  it('builds no markup from strings: no innerHTML, outerHTML, insertAdjacentHTML, document.write or DOMParser under src/web', () => {
    const files = readdirSync(WEB_SOURCE, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length >= 4);
    for (const file of files) {
      const text = readFileSync(path.join(WEB_SOURCE, file), 'utf8').replace(/^\s*\/\/.*$/gm, '');
      assert.doesNotMatch(text, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment|srcdoc/, file);
    }
  });
});
