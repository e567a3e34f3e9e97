#!/usr/bin/env node
// Entry point of the `modelsign` command: TypeScript runs through tsx, so a checkout works
// right after `npm ci` with no build step. The commands also exist prebuilt (scripts/build-cli.mjs,
// run at install): the client commands as one self-contained file, every command as src/
// bundled over node_modules. A build is used only while it is newer than every source file
// (prebuilt.js), so an edited checkout never runs stale code; MODELSIGN_NO_PREBUILT=1 always runs
// the sources.
import { freshBuild } from './prebuilt.js';

const CLIENT = new Set(['hash', 'scan', 'sign', 'verify', 'audit', 'log']);

const usePrebuilt = process.env.MODELSIGN_NO_PREBUILT !== '1';
if (usePrebuilt && CLIENT.has(process.argv[2]) && freshBuild('dist/modelsign-client.mjs', true)) {
  // The client commands never reach the generated Prisma client.
  await import('../dist/modelsign-client.mjs');
} else if (usePrebuilt && freshBuild('dist/app/modelsign.mjs', false)) {
  await import('../dist/app/modelsign.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
