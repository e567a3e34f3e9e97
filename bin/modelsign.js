#!/usr/bin/env node
// Entry point of the `modelsign` command: TypeScript runs through tsx, so a checkout works
// right after `npm ci` with no build step. The commands also exist prebuilt (scripts/build-cli.mjs,
// run at install): the client commands as one self-contained file, every command as src/
// bundled over node_modules. A build is used only while it is newer than every source file, so an
// edited checkout never runs stale code; MODELSIGN_NO_PREBUILT=1 always runs the sources.
import { readdirSync, statSync } from 'node:fs';

const CLIENT = new Set(['hash', 'scan', 'sign', 'verify', 'audit', 'log']);
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

/** Whether `file` under dist/ is newer than the sources it was built from. */
function fresh(file, skipGenerated) {
  try {
    return statSync(new URL(file, root)).mtimeMs > newestSource(new URL('src/', root), skipGenerated);
  } catch {
    return false;
  }
}

const usePrebuilt = process.env.MODELSIGN_NO_PREBUILT !== '1';
if (usePrebuilt && CLIENT.has(process.argv[2]) && fresh('dist/modelsign-client.mjs', true)) {
  // The client commands never reach the generated Prisma client.
  await import('../dist/modelsign-client.mjs');
} else if (usePrebuilt && fresh('dist/app/modelsign.mjs', false)) {
  await import('../dist/app/modelsign.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
