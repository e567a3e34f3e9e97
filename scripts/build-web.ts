// Builds the web console (src/web) into dist/web with content-hashed names and a manifest.json
// listing them; run at install (postinstall) and by `npm run build:web`. The service uses the
// build while it is newer than every file under src/web, and builds in memory otherwise.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { WEB_DIST, webBuildOptions } from '../src/server/web-assets.ts';

rmSync(WEB_DIST, { recursive: true, force: true });
mkdirSync(WEB_DIST, { recursive: true });
const result = await build(webBuildOptions(WEB_DIST));
const names = Object.keys(result.metafile!.outputs).map((p) => path.basename(p));
// Written last: its time stamp is what says the build is complete and fresh.
writeFileSync(path.join(WEB_DIST, 'manifest.json'), JSON.stringify(names) + '\n');
