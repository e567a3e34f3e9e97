// The public pages in headless Chromium against a real service (each storage pass): search by
// model, by a file's digest and by signature id, with the query in the URL; a release page with
// files, key and bundle; a hostile file name shown as text with no script run; a bad query and
// an unknown id answered in words; no uncaught errors, CSP violations or unexpected 4xx/5xx;
// no horizontal scroll at 375 px.
// Runs once: the pages read the same public routes whose storage behaviour test/server checks on both databases; once keeps npm test within its time.
// Tier: external (it drives Chromium)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { browserSkip, launchBrowser, watchedPage } from '../support/browser.ts';

const HOSTILE = '<img src=x onerror=alert(1)>.bin';
const digest = (n: number) => n.toString(16).padStart(64, 'a');

describe('the public pages in a browser', { skip: browserSkip }, () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let signatureId: string;

  before(async () => {
    t = await createTestApp();
    base = await listenTestApp(t);
    browser = await launchBrowser();
    const token = await t.publisherToken('acme');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/signatures',
      headers: { authorization: `Bearer ${token}` },
      payload: { model: 'acme/tiny', version: '1.0', files: [{ path: 'model.safetensors', sha256: digest(1), size: 1234 }, { path: `weights/${HOSTILE}`, sha256: digest(2), size: 5 }] },
    });
    assert.equal(res.statusCode, 201, res.body);
    signatureId = res.json().id;
    // Until a checkpoint covers the release (its bundle then carries the log entry).
    for (let i = 0; i < 100; i++) {
      if ((await t.app.inject({ url: `/v1/signatures/${signatureId}` })).json().bundle.verificationMaterial.tlogEntries.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('finds a release by model, opens its page, and shows a hostile file name as text without running it', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${base}/#/search?q=${encodeURIComponent('acme/tiny')}`);
    await page.getByRole('link', { name: 'acme/tiny@1.0' }).click();
    await page.getByRole('heading', { name: 'acme/tiny@1.0' }).waitFor();
    assert.match(page.url(), new RegExp(`#/release/${signatureId}$`), 'the release has its own URL');
    assert.equal(await page.getByText(`weights/${HOSTILE}`, { exact: true }).count(), 1);
    assert.equal(await page.locator('main img').count(), 0, 'no element was made from the name');
    assert.equal(await page.getByText(digest(2), { exact: true }).count(), 1);
    const bundle = page.getByRole('link', { name: /Download the bundle/ });
    assert.equal(await bundle.getAttribute('href'), '/v1/models/acme/tiny/versions/1.0/bundle');
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /Publisher\s*acme.*Key.*\(Ed25519, active\)/s);
    assert.equal(await page.getByRole('link', { name: 'rotation history' }).getAttribute('href'), '#/keys');
    assert.deepEqual(problems, []);
  });

  it('verifies the release in the page (signature, key, inclusion proof, checkpoint), and shows a tampered proof from a test double of the API as failed', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${base}/#/release/${signatureId}`);
    await page.getByText(/^Verified in your browser: signature, key status and log entry \d+/).waitFor();
    const keys = JSON.parse((await t.app.inject({ url: '/v1/keys' })).body).keys as { kid: string; purpose: string; status: string }[];
    const shown = (await page.locator('section.check').textContent()) ?? '';
    for (const k of keys.filter((k) => k.purpose === 'log' && k.status === 'active')) assert.ok(shown.includes(k.kid), 'the log key fingerprint is shown');

    // The API double serves the same record with one hash of the inclusion proof changed.
    // (The first entry's proof is for the tree it first entered, of one leaf: no hashes, so the
    // double's proof claims the leaf's sibling is its own hash with one bit changed.)
    await page.route(`**/v1/signatures/${signatureId}`, async (route) => {
      const response = await route.fetch();
      const record = await response.json();
      const proof = record.bundle.verificationMaterial.tlogEntries[0].inclusionProof;
      const bytes = Buffer.from(proof.hashes[0] ?? proof.rootHash, 'base64');
      bytes[0] = bytes[0]! ^ 1;
      proof.hashes = [bytes.toString('base64'), ...proof.hashes.slice(1)];
      await route.fulfill({ response, json: record });
    });
    await page.reload();
    await page.getByRole('alert').filter({ hasText: 'This bundle does not check out in your browser' }).waitFor();
    assert.match((await page.locator('section.check').textContent()) ?? '', /inclusion_proof_invalid/);
    assert.deepEqual(problems, []);
  });

  it('finds a release by a file digest and by signature id, the query kept in the URL', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${base}/`);
    await page.getByLabel('Model, namespace, digest, signature id or log index').fill(digest(1));
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'acme/tiny@1.0' }).waitFor();
    assert.ok(page.url().endsWith(`#/search?q=${digest(1)}`));
    await page.goto(`${base}/#/search?q=${signatureId}`);
    await page.getByRole('heading', { name: 'acme/tiny@1.0' }).waitFor();
    assert.deepEqual(problems, []);
  });

  it('answers a bad query and an unknown signature in words, and stays usable', async () => {
    const { page, problems, expect } = await watchedPage(browser);
    await page.goto(`${base}/#/search?q=${encodeURIComponent('not a model')}`);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /is not a model name/);
    expect('404 /v1/signatures/');
    await page.goto(`${base}/#/release/00000000-0000-4000-8000-000000000000`);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /no signature .*\(not_found\)/);
    await page.goto(`${base}/#/search?q=acme/none`);
    await page.getByRole('status').filter({ hasText: 'No signed release matches acme/none.' }).waitFor();
    assert.deepEqual(problems, []);
  });

  it('shows the keys with the rotation chain verified in the page, and the log with its checkpoint verified and a consistency check', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${base}/#/keys`);
    await page.getByText(/^Rotation chain verified in your browser: from the first release key [0-9a-f]{12}… to all \d+ release and log keys\.$/).waitFor();
    const keys = JSON.parse((await t.app.inject({ url: '/v1/keys' })).body).keys as { kid: string }[];
    for (const k of keys) assert.equal(await page.getByText(k.kid, { exact: true }).count(), 1, k.kid);
    await page.getByRole('link', { name: 'Log' }).click();
    await page.getByText(/^Checkpoint verified in your browser with log key [0-9a-f]{12}…: \d+ entries\.$/).waitFor();
    await page.getByLabel('From size').fill('1');
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByText(/^Consistent: the log at \d+ entries extends the log at 1 \(the signed checkpoint\)\.$/).waitFor();
    await page.getByLabel('From size').fill('5');
    await page.getByLabel('To size').fill('2');
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByRole('alert').filter({ hasText: 'Enter two sizes' }).waitFor();
    assert.deepEqual(problems, []);
  });

  it('fits 375 px without horizontal scrolling, and the search works from the keyboard', async () => {
    const { page, problems } = await watchedPage(browser, { width: 375, height: 740 });
    await page.goto(`${base}/#/release/${signatureId}`);
    await page.getByRole('heading', { name: 'acme/tiny@1.0' }).waitFor();
    assert.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no horizontal scroll on a release page');
    await page.goto(`${base}/`);
    // The header's links first, then the search box: focus order follows the page.
    const order: string[] = [];
    for (let i = 0; i < 7 && !order.includes('q'); i++) {
      await page.keyboard.press('Tab');
      order.push(String(await page.evaluate('document.activeElement.id || document.activeElement.textContent')));
    }
    assert.deepEqual(order, ['modelsign', 'Search', 'Verify files', 'Keys', 'Log', 'q']);
    await page.keyboard.type('acme/tiny');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'acme/tiny@1.0' }).waitFor();
    assert.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no horizontal scroll on results');
    assert.deepEqual(problems, []);
  });
});
