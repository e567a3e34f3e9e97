// Tier: quick
// src/api/openapi.ts is what openapi-typescript makes of openapi.yaml today: a contract edited
// without `npm run gen:api` fails here, before a presenter, route, CLI command or console page can
// drift from it unnoticed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const cli = path.join(path.dirname(createRequire(import.meta.url).resolve('openapi-typescript/package.json')), 'bin', 'cli.js');

describe('wire types', () => {
  it('are what openapi-typescript generates from openapi.yaml now (npm run gen:api)', () => {
    const run = spawnSync(process.execPath, [cli, 'openapi.yaml'], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const committed = readFileSync(path.join(root, 'src/api/openapi.ts'), 'utf8');
    assert.ok(run.stdout.includes('export interface components'), 'the generator wrote types');
    assert.equal(run.stdout, committed, 'src/api/openapi.ts is stale: run npm run gen:api and commit it');
  });
});
