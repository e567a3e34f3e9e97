// `npm run bench:web`: the console's "Verify a model you have" page hashing and content-checking
// in headless Chromium (Debian's, through playwright-core) two 1 GiB files: random bytes
// (`model.bin`) and a PyTorch checkpoint in torch's own zip layout (`model.pt`, made as
// bench:hash makes it, so the content check reads its directory and pickle), against baselines
// measured in the same run on the same files: hash-wasm and the content check in this Node
// process (the code the page's workers run, so the ratio is the browser's cost) and
// `openssl dgst -sha256` (what the CLI's node:crypto reaches). Prints the page's MiB/s for each
// (target: >= 150), the ratios, and the browser's memory above idle while it hashes (PSS summed
// over its processes; target: <= 400 MiB). Exit 1 when a target is missed.
//
// Options (environment): BENCH_DIR (default the system temp folder), BENCH_RUNS (default 3),
// CHROMIUM_PATH.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSHA256 } from 'hash-wasm';
import { FileCheck } from '../src/core/file-check.ts';
import { createTestApp, listenTestApp } from '../test/support/app.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { writeLargeStateDict } from '../test/support/crafted-content.ts';
import { median } from './support.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;

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

/** hash-wasm and the content check over the file in 4 MiB reads, as the page's worker does it: ms and the verdict. */
async function inNode(file: string, name: string): Promise<{ ms: number; verdict: string }> {
  const start = performance.now();
  const handle = await open(file);
  try {
    const size = (await handle.stat()).size;
    const h = await createSHA256();
    h.init();
    const check = new FileCheck(name, size, { update: (b) => void h.update(b), hexDigest: () => h.digest('hex') });
    for (let range = check.wanted(); range; range = check.wanted()) {
      const bytes = new Uint8Array(range.length);
      await handle.read(bytes, 0, range.length, range.at);
      check.provide(bytes);
    }
    const buffer = new Uint8Array(4 * MiB);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
      if (bytesRead === 0) break;
      check.push(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
    const result = check.finish();
    return { ms: performance.now() - start, verdict: result.content.verdict };
  } finally {
    await handle.close();
  }
}

async function main(): Promise<boolean> {
  const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), 'modelsign-bench-web-'));
  const random = path.join(dir, 'model.bin');
  const fd = openSync(random, 'w');
  const chunk = Buffer.alloc(16 * MiB);
  for (let done = 0; done < SIZE; done += chunk.length) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
  const torch = path.join(dir, 'model.pt');
  writeLargeStateDict(torch, SIZE - 4096, 7);
  const t = await createTestApp();
  const base = await listenTestApp(t);
  const browser = await launchBrowser();
  let ok = true;
  try {
    const page = await browser.newPage();
    for (const [label, file, verdict] of [['1 GiB random (model.bin)', random, 'malformed'], ['1 GiB PyTorch zip (model.pt)', torch, 'allowlisted-pickle']] as const) {
      const bytes = readFileSync(file).length; // also warms the page cache
      const pageMs: number[] = [];
      const nodeMs: number[] = [];
      const opensslMs: number[] = [];
      let peakAbove = 0;
      for (let run = 0; run < RUNS; run++) {
        const node = await inNode(file, path.basename(file));
        if (node.verdict !== verdict) throw new Error(`${label}: judged ${node.verdict} in Node, expected ${verdict}`);
        nodeMs.push(node.ms);
        let start = performance.now();
        spawnSync('openssl', ['dgst', '-sha256', file], { stdio: 'ignore' });
        opensslMs.push(performance.now() - start);

        await page.goto(`${base}/#/verify`);
        await page.getByRole('heading', { name: 'Verify a model you have' }).waitFor();
        await new Promise((r) => setTimeout(r, 500));
        const idle = browserPss();
        let peak = idle;
        const sampler = setInterval(() => (peak = Math.max(peak, browserPss())), 250);
        start = performance.now();
        await page.setInputFiles('#pick-files', file);
        await page.getByText('No release signed by this server has these files.').waitFor({ timeout: 600_000 });
        pageMs.push(performance.now() - start);
        clearInterval(sampler);
        if (await page.locator('#hasher-note').count()) throw new Error('the page fell back to @noble/hashes');
        peakAbove = Math.max(peakAbove, peak - idle);
        const rate = (ms: number) => (bytes / MiB / (ms / 1000)).toFixed(0);
        console.log(`${label}, run ${run + 1}: page ${rate(pageMs.at(-1)!)} MiB/s, node hash-wasm + check ${rate(nodeMs.at(-1)!)} MiB/s, openssl ${rate(opensslMs.at(-1)!)} MiB/s, browser +${(peak - idle).toFixed(0)} MiB over idle ${idle.toFixed(0)} MiB`);
      }
      const rate = bytes / MiB / (median(pageMs) / 1000);
      console.log(`\n${label} in the page (SHA-256 + content check in a Web Worker): ${rate.toFixed(0)} MiB/s (target >= 150: ${rate >= 150 ? 'PASS' : 'FAIL'})`);
      console.log(`  vs hash-wasm + content check in Node: ${(median(nodeMs) / median(pageMs)).toFixed(2)}x its throughput`);
      console.log(`  vs openssl dgst -sha256:              ${(median(opensslMs) / median(pageMs)).toFixed(2)}x its throughput`);
      console.log(`  browser memory above idle while hashing: ${peakAbove.toFixed(0)} MiB at most (target <= 400: ${peakAbove <= 400 ? 'PASS' : 'FAIL'})\n`);
      ok &&= rate >= 150 && peakAbove <= 400;
    }
  } finally {
    await browser.close();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return ok;
}

process.exitCode = (await main()) ? 0 : 1;
