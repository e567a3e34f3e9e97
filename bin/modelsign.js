#!/usr/bin/env node
// Entry point of the `modelsign` command: TypeScript runs through tsx, so a checkout works
// right after `npm ci` with no build step. The client commands also exist prebuilt
// (scripts/build-cli.mjs, run at install); they are used only while that build is newer than
// every source file, so an edited checkout never runs stale code.
import { readdirSync, statSync } from 'node:fs';

const CLIENT = new Set(['hash', 'scan', 'sign', 'verify', 'audit', 'log']);
const root = new URL('..', import.meta.url);

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'generated') continue;
    const full = new URL(entry.name + (entry.isDirectory() ? '/' : ''), dir);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function prebuilt() {
  try {
    const built = statSync(new URL('dist/modelsign-client.mjs', root)).mtimeMs;
    return built > newestSource(new URL('src/', root));
  } catch {
    return false;
  }
}

if (CLIENT.has(process.argv[2]) && process.env.MODELSIGN_NO_PREBUILT !== '1' && prebuilt()) {
  await import('../dist/modelsign-client.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
