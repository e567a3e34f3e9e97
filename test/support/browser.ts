// Debian's Chromium driven by playwright-core (which downloads no browser). `.ci/run` installs
// the browser and sets CI=true: there a missing browser fails the tests instead of skipping them.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const required = process.env.CI === 'true' || process.env.MODELSIGN_TEST_REQUIRE_BROWSER === '1';

/** A skip reason when there is no browser and none is required; false otherwise (a missing required browser then fails in launch). */
export const browserSkip: string | false = existsSync(CHROMIUM) || required ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;

export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: CI installs Debian's chromium (see .ci/run)`);
  return chromium.launch({ executablePath: CHROMIUM });
}

export interface WatchedPage {
  page: Page;
  /** Uncaught errors, console errors (CSP violations among them), failed requests, 4xx/5xx answers, dialogs. */
  problems: string[];
  /** Statuses a test provokes on purpose: `404 /v1/signatures/...`, matched by prefix. */
  expect(prefix: string): void;
}

export async function watchedPage(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  const expected: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    // The browser logs each 4xx/5xx fetch as a console error too; those are judged by status below.
    if (/^Failed to load resource: the server responded with a status of \d+/.test(text)) return;
    problems.push(`console error: ${text}`);
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() < 400) return;
    const what = `${r.status()} ${new URL(r.url()).pathname}`;
    if (!expected.some((e) => what.startsWith(e))) problems.push(`unexpected ${what}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return { page, problems, expect: (prefix) => expected.push(prefix) };
}

// Read when first needed: most browser test files never run axe.
let axeSource: string | undefined;

/** axe-core's serious and critical violations on the page as it is now (its source injected with evaluate: the page's CSP does not apply to it). */
export async function axeViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 3) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.targets.join(', ')}`);
}

/** Where tests save the screenshots the README shows, when asked to (npm run screenshots); undefined otherwise. */
export const SCREENSHOT_DIR = process.env.MODELSIGN_SCREENSHOTS;
