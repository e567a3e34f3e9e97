// The admin console at /admin in headless Chromium against a real service (each storage pass):
// a publisher token is refused with the API's message; an admin signs in (the token kept in
// sessionStorage only, its lifetime shown), rotates the release key (the public keys page then
// shows the new active key and the retired one), revokes a key after a confirmation that counts
// the signatures it invalidates, creates and disables a publisher (the API's refusal shown),
// issues, lists and revokes a token, sees the audit chain checked, and signs out. axe-core finds
// no serious or critical violation on any page at desktop width or at 375 px.
// Runs once: the console drives the same admin routes whose storage behaviour test/server checks on both databases; once keeps npm test within its time.
// Tier: external (it drives Chromium)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { axeViolations, browserSkip, launchBrowser, SCREENSHOT_DIR, watchedPage } from '../support/browser.ts';

const digest = (n: number) => n.toString(16).padStart(64, 'c');

describe('the admin console in a browser', { skip: browserSkip }, () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let firstKid: string;
  let signatureId: string;

  before(async () => {
    t = await createTestApp();
    base = await listenTestApp(t);
    browser = await launchBrowser();
    // The signature comes more than a second after the first release key, so a compromise time
    // between the two (to the second, as the console's picker gives it) invalidates it.
    await new Promise((r) => setTimeout(r, 2_100));
    const token = await t.publisherToken('acme');
    const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: { authorization: `Bearer ${token}` }, payload: { model: 'acme/tiny', version: '1.0', files: [{ path: 'w.safetensors', sha256: digest(1), size: 10 }] } });
    assert.equal(res.statusCode, 201, res.body);
    firstKid = res.json().kid;
    signatureId = res.json().id;
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${base}/admin`);
    await page.getByLabel('Admin or auditor token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('refuses a publisher token with the API\'s message, and keeps nothing', async () => {
    const { page, problems, expect } = await watchedPage(browser);
    expect('403 /v1/admin/audit');
    const token = await t.publisherToken('acme');
    await signIn(page, token);
    const said = await page.getByRole('alert').textContent();
    assert.equal(said, 'this route is for admin or auditor tokens; this is a publisher token (forbidden_role)');
    assert.equal(await page.evaluate('sessionStorage.length + localStorage.length'), 0);
    await page.getByLabel('Admin or auditor token').fill('not a token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That is not a modelsign token' }).waitFor();
    assert.deepEqual(problems, []);
  });

  it('rotates the release key, and the public keys page shows the new active key and the retired one', async () => {
    const { page, problems } = await watchedPage(browser);
    await signIn(page, await t.adminToken());
    await page.getByText(/^Signed in as admin test-admin, /).waitFor();
    assert.match((await page.locator('#lifetime').textContent()) ?? '', /^(59|60) min left$/);
    assert.equal(await page.evaluate('sessionStorage.length'), 1);
    assert.equal(await page.evaluate('localStorage.length + document.cookie.length'), 0, 'the token is in sessionStorage only');
    await page.getByRole('button', { name: `Rotate release key ${firstKid.slice(0, 12)}` }).click();
    const said = (await page.locator('#keys-status').getByRole('status').textContent()) ?? '';
    const m = /^Rotated the release key: ([0-9a-f]{64}) is active, ([0-9a-f]{64}) is retired\.$/.exec(said);
    assert.ok(m, said);
    assert.equal(m[2], firstKid);
    // Rotating again from a stale view: the expectedActive guard refuses with the API's message.
    const stale = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: { authorization: `Bearer ${await t.adminToken()}` }, payload: { purpose: 'release', expectedActive: firstKid } });
    assert.equal(stale.json().code, 'rotation_conflict');

    const pub = await watchedPage(browser);
    await pub.page.goto(`${base}/#/keys`);
    await pub.page.getByText(/^Rotation chain verified in your browser/).waitFor();
    const rowOf = async (kid: string) => (await pub.page.locator('tr', { hasText: kid }).textContent()) ?? '';
    assert.match(await rowOf(m[1]!), /active/);
    assert.match(await rowOf(firstKid), /retired/);
    assert.deepEqual(problems, []);
    assert.deepEqual(pub.problems, []);
  });

  it('revokes a key after a confirmation that says how many signatures become invalid', async () => {
    const { page, problems } = await watchedPage(browser);
    await signIn(page, await t.adminToken());
    await page.getByRole('button', { name: `Revoke release key ${firstKid.slice(0, 12)}` }).click();
    // The first whole second after the key was made, before the signature: it becomes invalid.
    const keyCreated = new Date((await t.app.inject({ url: '/v1/keys' })).json().keys.find((k: { kid: string }) => k.kid === firstKid).createdAt as string);
    const at = Math.ceil((keyCreated.getTime() + 1) / 1000) * 1000;
    const local = new Date(at - keyCreated.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    await page.getByLabel('Compromised at (your local time)').fill(local);
    await page.getByLabel('Reason').fill('test: the key leaked');
    await page.getByRole('button', { name: 'Count what this invalidates' }).click();
    const warning = (await page.locator('#revoke-confirm').getByRole('alert').textContent()) ?? '';
    assert.match(warning, /^Revoking this key as of .* UTC makes 1 of its 1 signature invalid\. This cannot be undone\.$/);
    assert.equal((await t.app.inject({ url: '/v1/keys' })).json().keys.find((k: { kid: string }) => k.kid === firstKid).status, 'retired', 'nothing revoked before the confirmation');
    await page.getByRole('button', { name: 'Revoke the key' }).click();
    await page.locator('#keys-status').getByText(`Revoked ${firstKid}.`).waitFor();
    assert.equal((await t.app.inject({ url: '/v1/keys' })).json().keys.find((k: { kid: string }) => k.kid === firstKid).status, 'revoked');
    assert.match((await page.locator('tr', { hasText: firstKid }).textContent()) ?? '', /revoked/, 'the console shows the key as it is now, not a cached copy');
    assert.deepEqual(problems, []);
  });

  it('creates and disables a publisher, shows the API\'s refusal, issues, lists and revokes a token, checks the audit chain, and signs out', async () => {
    const { page, problems, expect } = await watchedPage(browser);
    await signIn(page, await t.adminToken());
    await page.getByRole('link', { name: 'Publishers' }).click();
    await page.getByLabel('Name', { exact: true }).fill('beta');
    await page.getByLabel('Namespaces', { exact: true }).fill('beta, beta-labs');
    await page.getByLabel('Signing algorithm', { exact: true }).selectOption('ecdsa-p256');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('#publishers-status').getByText('Created beta.').waitFor();
    assert.match((await page.locator('tr', { hasText: 'beta (ecdsa-p256)' }).textContent()) ?? '', /beta-labs \(ecdsa-p256\)/);
    await page.getByRole('button', { name: 'Disable beta' }).click();
    await page.locator('#publishers-status').getByText('beta is disabled.').waitFor();

    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByLabel('Publisher (for a publisher token) or subject').fill('beta');
    await page.getByLabel('Lifetime').fill('1h');
    expect('401 /v1/admin/tokens');
    await page.getByRole('button', { name: 'Issue' }).click();
    await page.locator('#tokens-status').getByRole('alert').filter({ hasText: /^publisher beta is disabled \(publisher_disabled\)$/ }).waitFor();

    await page.getByRole('link', { name: 'Publishers' }).click();
    await page.getByRole('button', { name: 'Enable beta' }).click();
    assert.equal(await page.evaluate('sessionStorage.length'), 1, 'a refusal of the request, not of the token, keeps the session');
    await page.locator('#publishers-status').getByText('beta is enabled.').waitFor();
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByLabel('Publisher (for a publisher token) or subject').fill('beta');
    await page.getByLabel('Lifetime').fill('1h');
    await page.getByRole('button', { name: 'Issue' }).click();
    const issued = (await page.locator('#issued-token').getByRole('status').textContent()) ?? '';
    const jti = /^Issued ([0-9a-f-]{36}), valid until/.exec(issued)?.[1];
    assert.ok(jti, issued);
    const jwt = await page.getByLabel('The new token').inputValue();
    assert.match(jwt, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    const listed = (await page.getByRole('region', { name: 'Tokens' }).textContent()) ?? '';
    assert.ok(listed.includes(jti));
    assert.ok(!listed.includes(jwt), 'the list never shows a JWT');
    await page.getByRole('button', { name: `Revoke token ${jti}` }).click();
    await page.locator('#tokens-status').getByText(`Revoked ${jti}: it is refused from the next request on.`).waitFor();
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/admin/publishers', headers: { authorization: `Bearer ${jwt}` } })).json().code, 'token_revoked');

    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByText(/^Hash chain intact: \d+ events recomputed\.$/).waitFor();
    assert.ok(await page.getByRole('cell', { name: 'key.rotate' }).count() >= 1);

    await page.getByRole('link', { name: 'Trusted publishing' }).click();
    await page.getByRole('heading', { name: 'OIDC issuers' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin or auditor token').waitFor();
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
    assert.deepEqual(problems, []);
  });

  it('an auditor sees the console without the buttons that change things', async () => {
    const { page, problems } = await watchedPage(browser);
    const auditor = (await t.services.tokens.issueFor({ role: 'auditor', subject: 'carol', ttlMs: 3_600_000 }, 'test')).token;
    await signIn(page, auditor);
    await page.getByText(/^Signed in as auditor carol, /).waitFor();
    await page.getByRole('region', { name: 'Keys' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^(Rotate|Revoke)/ }).count(), 0);
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByRole('region', { name: 'Tokens' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Issue' }).count(), 0);
    assert.deepEqual(problems, []);
  });

  for (const viewport of [{ width: 1280, height: 800 }, { width: 375, height: 740 }]) {
    it(`axe-core finds no serious or critical violation on any page at ${viewport.width} px, and none scrolls sideways`, async () => {
      const { page, problems } = await watchedPage(browser, viewport);
      const pages: [string, () => Promise<unknown>][] = [
        ['/', () => page.getByLabel('Model, namespace, digest, signature id or log index').waitFor()],
        ['/#/search?q=acme', () => page.getByRole('link', { name: 'acme/tiny@1.0' }).waitFor()],
        [`/#/release/${signatureId}`, () => page.getByRole('heading', { name: 'acme/tiny@1.0' }).waitFor()],
        ['/#/verify', () => page.getByRole('heading', { name: 'Verify a model you have' }).waitFor()],
        ['/#/keys', () => page.locator('section[aria-label="Rotation chain"]').waitFor()],
        ['/#/log', () => page.getByText(/^Checkpoint verified in your browser/).waitFor()],
        ['/admin', () => page.getByLabel('Admin or auditor token').waitFor()],
      ];
      const found: string[] = [];
      for (const [url, ready] of pages) {
        await page.goto(`${base}${url}`);
        await ready();
        found.push(...(await axeViolations(page)).map((v) => `${url}: ${v}`));
        if (!(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'))) found.push(`${url}: scrolls sideways`);
      }
      await signIn(page, await t.adminToken());
      for (const section of ['keys', 'publishers', 'tokens', 'trusted', 'audit']) {
        await page.goto(`${base}/admin#/${section}`);
        await page.locator('table.admin').first().waitFor({ state: 'attached' });
        found.push(...(await axeViolations(page)).map((v) => `/admin#/${section}: ${v}`));
        if (!(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'))) found.push(`/admin#/${section}: scrolls sideways`);
      }
      assert.deepEqual(found, []);
      if (SCREENSHOT_DIR && viewport.width > 1000) {
        mkdirSync(SCREENSHOT_DIR, { recursive: true });
        await page.goto(`${base}/admin#/keys`);
        await page.locator('table.admin').waitFor();
        await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'console-admin-keys.png'), fullPage: true });
      }
      assert.deepEqual(problems, []);
    });
  }
});
