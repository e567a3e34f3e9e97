// The verify page's SHA-256 in Chromium, through the real hashing worker under the page's real
// CSP: hash-wasm gives the known answers (FIPS 180 and NIST CAVP byte-oriented vectors), every
// length around the 64-byte block and the stream's chunk size, and a 64 MiB pseudo-random file,
// each against node:crypto. A page served without 'wasm-unsafe-eval' still verifies, with
// @noble/hashes, and says so.
// Runs once: the hashing happens in the browser; the service only serves the page.
// Tier: external (it drives Chromium)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { browserSkip, launchBrowser, watchedPage } from '../support/browser.ts';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

// FIPS 180-4's examples and the first CAVP SHA256ShortMsg byte-oriented vectors (hex message, digest).
const KNOWN: [string, string][] = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  [Buffer.from('abc').toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  [Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq').toString('hex'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  [Buffer.from('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu').toString('hex'), 'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1'],
  ['d3', '28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1'],
  ['11af', '5ca7133fa735326081558ac312c620eeca9970d1e70a4b95533d956f072d1f98'],
  ['b4190e', 'dff2e73091f6c05e528896c4c831b9448653dc2ff043528f6769437bc7b975c2'],
  ['74ba2521', 'b16aa56be3880d18cd41e68384cf1ec8c17680c45a02b1575dc1518923ae8b0e'],
];
// Around the block (64) and the padding boundary (55/56), and around Chromium's Blob stream chunk (64 KiB) and 1 MiB.
const LENGTHS = [0, 1, 55, 56, 63, 64, 65, 65_535, 65_536, 65_537, 1_048_575, 1_048_576, 1_048_577];
const BIG = 64 * 1024 * 1024;

/** The same pseudo-random bytes in Node and in the page (xorshift32 from a seed). */
function pseudoRandom(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let k = 0; k < length; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[k] = x & 0xff;
  }
  return out;
}

interface Job {
  name: string;
  hex?: string;
  length?: number;
  seed?: number;
}

// Runs in the page, as plain JavaScript (a string: the test's TypeScript has no DOM types, and
// tsx would add helpers to a function the page does not have): hashes each job in the page's own
// hashing worker (the asset `/` names, under the page's CSP).
const IN_PAGE = `async (jobs) => {
  const url = document.querySelector('meta[name="modelsign-worker"]').content;
  const worker = new Worker(url, { type: 'module' });
  const digests = {};
  const hashers = [];
  function random(length, seed) {
    const out = new Uint8Array(length);
    let x = seed >>> 0 || 1;
    for (let k = 0; k < length; k++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[k] = x & 0xff; }
    return out;
  }
  try {
    for (let id = 0; id < jobs.length; id++) {
      const job = jobs[id];
      const bytes = job.hex !== undefined ? new Uint8Array((job.hex.match(/../g) || []).map((h) => parseInt(h, 16))) : random(job.length, job.seed);
      const file = new File([bytes], job.name + '.bin');
      digests[job.name] = await new Promise((resolve, reject) => {
        worker.onmessage = (event) => {
          const m = event.data;
          if (m.type === 'hasher') hashers.push(m.kind === 'wasm' ? 'wasm' : 'noble: ' + m.reason);
          if (m.type === 'done') resolve(m.result.sha256);
          if (m.type === 'error') reject(new Error(m.message));
        };
        worker.onerror = (e) => reject(new Error(e.message));
        worker.postMessage({ id, path: job.name + '.bin', file });
      });
    }
  } finally {
    worker.terminate();
  }
  return { digests, hashers };
}`;

async function hashInPage(page: Page, jobs: Job[]): Promise<{ digests: Record<string, string>; hashers: string[] }> {
  return page.evaluate(`(${IN_PAGE})(${JSON.stringify(jobs)})`) as Promise<{ digests: Record<string, string>; hashers: string[] }>;
}

describe('SHA-256 in the verify page', { skip: browserSkip }, () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  before(async () => {
    t = await createTestApp();
    base = await listenTestApp(t);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('gives the known answers with hash-wasm: FIPS 180 and CAVP vectors, block and chunk boundaries, 64 MiB against node:crypto', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${base}/#/verify`);
    const jobs: Job[] = [
      ...KNOWN.map(([hex], k) => ({ name: `known-${k}`, hex })),
      ...LENGTHS.map((length) => ({ name: `length-${length}`, length, seed: length + 1 })),
      { name: 'random-64MiB', length: BIG, seed: 20261206 },
    ];
    const { digests, hashers } = await hashInPage(page, jobs);
    assert.deepEqual([...new Set(hashers)], ['wasm'], 'every file went through hash-wasm');
    KNOWN.forEach(([, digest], k) => assert.equal(digests[`known-${k}`], digest, `vector ${k}`));
    for (const length of LENGTHS) assert.equal(digests[`length-${length}`], sha(pseudoRandom(length, length + 1)), `${length} bytes`);
    assert.equal(digests['random-64MiB'], sha(pseudoRandom(BIG, 20261206)), '64 MiB');
    assert.deepEqual(problems, []);
  });

  it('falls back to @noble/hashes where WebAssembly may not be compiled, still verifies, and says so', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelsign-web-sha-'));
    try {
      const { page } = await watchedPage(browser);
      // A stricter policy in front of the service: 'wasm-unsafe-eval' taken out of every answer.
      await page.route('**/*', async (route) => {
        const response = await route.fetch();
        const headers = { ...response.headers() };
        if (headers['content-security-policy']) headers['content-security-policy'] = headers['content-security-policy'].replace(" 'wasm-unsafe-eval'", '');
        await route.fulfill({ response, headers });
      });
      await page.goto(`${base}/#/verify`);
      const { digests, hashers } = await hashInPage(page, KNOWN.map(([hex], k) => ({ name: `known-${k}`, hex })));
      assert.ok(hashers.length > 0 && hashers.every((h) => h.startsWith('noble: ')), hashers.join('; '));
      KNOWN.forEach(([, digest], k) => assert.equal(digests[`known-${k}`], digest, `vector ${k} with the fallback`));
      // The page itself: a signed file is hashed, found by its digest and verified, and the fallback is said.
      const folder = path.join(work, 'one');
      mkdirSync(folder);
      const weights = Buffer.from('a model file signed for the fallback test\n');
      writeFileSync(path.join(folder, 'weights.bin'), weights);
      const signed = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: { authorization: `Bearer ${await t.publisherToken('acme')}` }, payload: { model: 'acme/fallback', version: '1.0', files: [{ path: 'weights.bin', sha256: sha(weights), size: weights.length }] } });
      assert.equal(signed.statusCode, 201, signed.body);
      for (let i = 0; i < 100 && (await t.app.inject({ url: '/v1/models/acme/fallback/versions/1.0/bundle' })).json().verificationMaterial.tlogEntries.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      await page.setInputFiles('#pick-files', path.join(folder, 'weights.bin'));
      await page.getByText('Verified: these files are acme/fallback@1.0 as signed by acme.').waitFor();
      await page.locator('#hasher-note').waitFor();
      assert.match((await page.locator('#hasher-note').textContent()) ?? '', /SHA-256 ran in JavaScript \(@noble\/hashes\).*could not compile WebAssembly/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
