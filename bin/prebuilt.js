// Whether a prebuilt command (scripts/build-cli.mjs) may run: only while it is newer than every
// file under src/, so an edited checkout never runs stale code. Plain JavaScript: bin/modelsign.js
// asks before tsx is loaded. The tests ask the same question (test/cli/serve.test.ts).
import { readdirSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url);

function newestSource(dir, skipGenerated) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipGenerated && entry.name === 'generated') continue;
    const full = new URL(entry.name + (entry.isDirectory() ? '/' : ''), dir);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full, skipGenerated) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Whether `file` (relative to the checkout) exists and is newer than src/ (src/generated left out when `skipGenerated`). */
export function freshBuild(file, skipGenerated) {
  try {
    return statSync(new URL(file, root)).mtimeMs > newestSource(new URL('src/', root), skipGenerated);
  } catch {
    return false;
  }
}
