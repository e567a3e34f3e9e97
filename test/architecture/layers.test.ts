// Every import in src/ keeps to its layer (core pure; api only core; db ← services ← server | cli;
// the CLI never imports the server; the web console only core and api), no module reaches itself
// through others (no import circle), the server, CLI and console write no wire shape by hand, and
// each check bites: fed forbidden imports, a planted circle or a planted shape, it names each one.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkLayers, findCircles, findWireShapes, layerOf, sourceFiles } from '../../scripts/check-layers.ts';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

describe('import boundaries', () => {
  it('holds for every file of src/', () => {
    const files = sourceFiles(root);
    assert.ok(files.size > 80, `${files.size} files checked`);
    assert.deepEqual(checkLayers(files), []);
  });

  it('refuses a CLI command that imports the server, and a core module that imports a service or does I/O', () => {
    const violations = checkLayers(
      new Map([
        ['src/cli/evil.ts', "import { buildApp } from '../server/app.ts';\nimport { createLogger } from '../server/../app/logger.ts';"],
        ['src/core/evil.ts', "import type { KeyService } from '../services/keys.ts';\nimport { readFileSync } from 'node:fs';\nimport pino from 'pino';\nimport { sha256 } from '@noble/hashes/sha2.js';"],
      ]),
    );
    assert.deepEqual(
      violations.map((v) => [v.file, v.specifier]),
      [
        ['src/cli/evil.ts', '../server/app.ts'],
        ['src/core/evil.ts', '../services/keys.ts'],
        ['src/core/evil.ts', 'node:fs'],
        ['src/core/evil.ts', 'pino'],
      ],
    );
    assert.match(violations[0]!.message, /^cli imports server \(src\/server\/app\.ts\)/);
    assert.match(violations[1]!.message, /^core imports services/);
  });

  it('refuses the other crossings: server to db, db to services, api to services, web to the server, dynamic imports too', () => {
    const violations = checkLayers(
      new Map([
        ['src/server/evil.ts', "import { migrate } from '../db/migrate.ts';"],
        ['src/db/evil.ts', "import type { Services } from '../services/index.ts';"],
        ['src/api/evil.ts', "import type { KeyService } from '../services/keys.ts';\nimport { readFile } from 'fs';"],
        ['src/web/evil.ts', "const m = await import('../server/app.ts');"],
        ['src/services/evil.ts', "import { startInstance } from '../app/instance.ts';"],
      ]),
    );
    assert.deepEqual(
      violations.map((v) => v.file),
      ['src/server/evil.ts', 'src/db/evil.ts', 'src/api/evil.ts', 'src/api/evil.ts', 'src/web/evil.ts', 'src/services/evil.ts'],
    );
  });

  it('finds no import circle in src/ (value or type imports), and finds a planted one', () => {
    const files = sourceFiles(root);
    assert.deepEqual(findCircles(files), []);
    // The circle this check was written for (services/checkpointer → log-reader → the signature
    // reads → checkpointer), planted again through one import, plus a type-only two-file circle and a module that imports itself.
    const planted = new Map(files);
    planted.set('src/services/log-reader.ts', `${files.get('src/services/log-reader.ts')}\nimport { SignatureReader } from './signature-reader.ts';`);
    planted.set('src/core/a.ts', "import type { B } from './b.ts';\nexport type A = B;");
    planted.set('src/core/b.ts', "import type { A } from './a.ts';\nexport type B = A | 1;");
    planted.set('src/core/self.ts', "import { x } from './self.ts';\nexport const y = x;");
    assert.deepEqual(findCircles(planted), [
      ['src/core/a.ts', 'src/core/b.ts'],
      ['src/core/self.ts'],
      ['src/services/checkpointer.ts', 'src/services/log-reader.ts', 'src/services/signature-reader.ts'],
    ]);
  });

  it('finds no wire shape written by hand in the server, the CLI or the console, and finds planted ones', () => {
    const files = sourceFiles(root);
    assert.deepEqual(findWireShapes(files), []);
    const planted = new Map([
      // The console's old mirror of a publisher, a route generic by hand, a service's view in the CLI.
      ['src/web/admin-publishers-view.ts', `${files.get('src/web/admin-publishers-view.ts')}\nexport interface PublisherJson { id: string; name: string }`],
      ['src/server/routes/v1/evil.ts', "export default async function (app: any) { app.post<{ Body: { name: string } }>('/x', async () => ({})); }"],
      ['src/cli/evil.ts', "import type { PublisherView } from '../services/publishers.ts';\ntype SignBody = { model: string } & { version: string };\ntype Fine = Wire['Publisher'];"],
      // Not a wire reader: a service may declare what it likes.
      ['src/services/evil.ts', 'export interface ThingView { id: string }'],
    ]);
    assert.deepEqual(
      findWireShapes(planted).map((v) => [v.file, v.specifier]),
      [
        ['src/web/admin-publishers-view.ts', 'PublisherJson'],
        ['src/server/routes/v1/evil.ts', '{ Body: { name: string } }'],
        ['src/cli/evil.ts', 'PublisherView'],
        ['src/cli/evil.ts', 'SignBody'],
      ],
    );
  });

  it('knows the layer of every kind of path', () => {
    assert.deepEqual(
      ['src/core/tlog/hash.ts', 'src/config.ts', 'src/main.ts', 'src/app/instance.ts', 'src/generated/prisma/client.ts', 'test/x.ts'].map(layerOf),
      ['core', 'config', 'main', 'app', 'generated', undefined],
    );
  });
});
