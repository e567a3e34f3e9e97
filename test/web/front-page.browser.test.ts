// The pages that show what the service holds, in headless Chromium against a log of 30 releases:
// the front page lists the newest releases (20 a page, then the older ones) and the log's size,
// each linking to its release page; the log page lists its newest entries (index, release, key,
// time), each linking to its release. axe finds nothing serious at 1280 px and at 375 px, and
// neither page scrolls sideways. An empty service says so on both.
// Runs once: the pages read the public routes whose storage behaviour test/server checks on both databases.
// Tier: external (it drives Chromium)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { bearer, createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { axeViolations, browserSkip, launchBrowser, watchedPage } from '../support/browser.ts';

const RELEASES = 30;

describe('the front page and the log page list what is there', { skip: browserSkip }, () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  before(async () => {
    t = await createTestApp();
    base = await listenTestApp(t);
    browser = await launchBrowser();
    const token = await t.publisherToken('acme');
    for (let i = 0; i < RELEASES; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: bearer(token), payload: { model: `acme/model-${i % 3}`, version: `1.${i}`, files: [{ path: 'model.safetensors', sha256: createHash('sha256').update(`file ${i}`).digest('hex'), size: 100 + i }] } });
      assert.equal(res.statusCode, 201, res.body);
    }
    // Until a checkpoint covers all of them.
    for (let i = 0; i < 100; i++) {
      if ((await t.app.inject({ url: '/v1/log/entries?start=0&end=0' })).json().treeSize === RELEASES) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('lists the newest releases on the front page, pages to the older ones, and follows one to its page', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Newest releases' }).waitFor();
    assert.match((await page.locator('main').textContent()) ?? '', new RegExp(`The transparency log holds ${RELEASES} entries`));
    const first = page.locator('ul.results li');
    assert.equal(await first.count(), 20);
    assert.match((await first.nth(0).textContent()) ?? '', /^acme\/model-2@1\.29 signed by acme, .*log entry 29$/);
    await page.getByRole('link', { name: 'Older releases' }).click();
    await page.getByRole('heading', { name: 'Older releases' }).waitFor();
    assert.equal(await page.locator('ul.results li').count(), RELEASES - 20);
    assert.match((await page.locator('ul.results li').nth(0).textContent()) ?? '', /^acme\/model-0@1\.9 /);
    assert.equal(await page.getByRole('link', { name: 'Older releases' }).count(), 0, 'the last page has no older one');
    await page.getByRole('link', { name: 'acme/model-0@1.0' }).click();
    await page.getByRole('heading', { name: 'acme/model-0@1.0' }).waitFor();
    await page.getByText(/^Verified in your browser: signature, key status and log entry 0/).waitFor();
    assert.deepEqual(problems, []);
  });

  it('lists the log\'s newest entries (index, release, key, time) and follows one to its release', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${base}/#/log`);
    await page.getByRole('heading', { name: `Newest entries (20 of ${RELEASES})` }).waitFor();
    const rows = page.locator('table.files tbody tr');
    assert.equal(await rows.count(), 20);
    const kid = (await t.app.inject({ url: '/v1/log/entries?start=29&end=30' })).json().entries[0].kid as string;
    assert.match((await rows.nth(0).textContent()) ?? '', new RegExp(`^29acme/model-2@1\\.29${kid.slice(0, 12)}20\\d\\d-`));
    assert.match((await rows.nth(19).textContent()) ?? '', /^10acme\/model-1@1\.10/);
    await page.getByRole('link', { name: 'acme/model-1@1.25' }).click();
    await page.getByRole('heading', { name: 'acme/model-1@1.25' }).waitFor();
    assert.deepEqual(problems, []);
  });

  it('has no serious accessibility violation and no sideways scroll at 1280 px and 375 px', async () => {
    const found: string[] = [];
    for (const viewport of [{ width: 1280, height: 800 }, { width: 375, height: 740 }]) {
      const { page, problems } = await watchedPage(browser, viewport);
      for (const [url, ready] of [[`${base}/`, 'Newest releases'], [`${base}/#/log`, `Newest entries (20 of ${RELEASES})`]] as const) {
        await page.goto(url);
        await page.getByRole('heading', { name: ready }).waitFor();
        found.push(...(await axeViolations(page)).map((v) => `${viewport.width} px ${url}: ${v}`));
        if (!(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'))) found.push(`${viewport.width} px ${url}: scrolls sideways`);
      }
      assert.deepEqual(problems, []);
    }
    assert.deepEqual(found, []);
  });

  it('says so on an empty service', async () => {
    const empty = await createTestApp();
    try {
      const url = await listenTestApp(empty);
      const { page, problems } = await watchedPage(browser);
      await page.goto(`${url}/`);
      await page.getByText('Nothing has been signed yet.').waitFor();
      assert.match((await page.locator('main').textContent()) ?? '', /The transparency log holds 0 entries/);
      await page.goto(`${url}/#/log`);
      await page.getByText('The log is empty: nothing has been signed yet.').waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await empty.close();
    }
  });
});
