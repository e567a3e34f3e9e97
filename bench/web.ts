// `npm run bench:web`: the console's "Verify a model you have" page hashing a 1 GiB file in
// headless Chromium (Debian's, through playwright-core), against baselines measured in the same
// run on the same file: @noble/hashes in this Node process (the same code the page's workers
// run, so the ratio is the browser's cost) and `openssl dgst -sha256` (what the CLI's node:crypto
// reaches). Prints the page's MiB/s (issue target: >= 150), the ratios, and the browser's memory
// above idle while it hashes (PSS summed over its processes; target: <= 400 MiB).
//
// Options (environment): BENCH_DIR (default the system temp folder), BENCH_RUNS (default 3),
// CHROMIUM_PATH.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileCheck } from '../src/core/file-check.ts';
import { createTestApp, listenTestApp } from '../test/support/app.ts';
import { launchBrowser } from '../test/support/browser.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** PSS in MiB summed over the processes of the browser Playwright started (its profile folder names them). */
function browserPss(): number {
  let kib = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('playwright_chromiumdev_profile')) continue;
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return kib / 1024;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), 'modelsign-bench-web-'));
  const file = path.join(dir, 'model.bin');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * MiB);
  for (let done = 0; done < SIZE; done += chunk.length) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
  const t = await createTestApp();
  const base = await listenTestApp(t);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/#/verify`);
    await page.getByRole('heading', { name: 'Verify a model you have' }).waitFor();
    const page_: number[] = [];
    const node: number[] = [];
    const openssl: number[] = [];
    let peakAbove = 0;
    for (let run = 0; run < RUNS; run++) {
      // Node, @noble/hashes and the content check (core/file-check.ts), from the page cache.
      let start = performance.now();
      const bytes = await readFile(file);
      const check = new FileCheck('model.bin', bytes.length);
      for (let range = check.wanted(); range; range = check.wanted()) check.provide(bytes.subarray(range.at, range.at + range.length));
      for (let at = 0; at < bytes.length; at += 4 * MiB) check.push(bytes.subarray(at, at + 4 * MiB));
      check.finish();
      node.push(performance.now() - start);

      start = performance.now();
      spawnSync('openssl', ['dgst', '-sha256', file], { stdio: 'ignore' });
      openssl.push(performance.now() - start);

      await page.reload();
      await page.getByRole('heading', { name: 'Verify a model you have' }).waitFor();
      await new Promise((r) => setTimeout(r, 500));
      const idle = browserPss();
      let peak = idle;
      const sampler = setInterval(() => (peak = Math.max(peak, browserPss())), 250);
      start = performance.now();
      await page.setInputFiles('#pick-files', file);
      await page.getByText('No release signed by this server has these files.').waitFor({ timeout: 600_000 });
      page_.push(performance.now() - start);
      clearInterval(sampler);
      peakAbove = Math.max(peakAbove, peak - idle);
      console.log(`run ${run + 1}: page ${(SIZE / MiB / (page_.at(-1)! / 1000)).toFixed(0)} MiB/s, node+noble ${(SIZE / MiB / (node.at(-1)! / 1000)).toFixed(0)} MiB/s, openssl ${(SIZE / MiB / (openssl.at(-1)! / 1000)).toFixed(0)} MiB/s, browser +${(peak - idle).toFixed(0)} MiB over idle ${idle.toFixed(0)} MiB`);
    }
    const rate = (ms: number) => SIZE / MiB / (ms / 1000);
    console.log(`\n1 GiB in the page (SHA-256 + content check in a Web Worker): ${rate(median(page_)).toFixed(0)} MiB/s (target >= 150)`);
    console.log(`  vs @noble/hashes + content check in Node: ${(median(node) / median(page_)).toFixed(2)}x its throughput`);
    console.log(`  vs openssl dgst -sha256:                  ${(median(openssl) / median(page_)).toFixed(2)}x its throughput`);
    console.log(`browser memory above idle while hashing: ${peakAbove.toFixed(0)} MiB at most (target <= 400)`);
  } finally {
    await browser.close();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
