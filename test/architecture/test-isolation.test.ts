// Tier: quick
// npm test runs most test files several to a process (scripts/test.mjs, "groups"), so a test file
// must not change what the process shares with the files beside it: no hooks at its top level
// (node:test would run them around every other file's tests too), no writes to process.env, no
// globals, no process-wide handlers or settings. Tests pass an environment to the processes they
// start, and keep state in their own describe()s. A file that truly needs its own process says
// `// Runs alone: <why>` and is not grouped.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** What a grouped file must not do, each with the reason a reader sees on failure. */
const SHARED_STATE: readonly { pattern: RegExp; why: string }[] = [
  { pattern: /^(?:before|after|beforeEach|afterEach)\(/m, why: 'a hook at the top level runs around the tests of every file in its process' },
  { pattern: /process\.env(?:\.\w+|\[[^\]]+\])\s*=(?!=)|delete process\.env|Object\.assign\(process\.env/, why: 'writes process.env, which the files beside it read' },
  { pattern: /globalThis(?:\.\w+|\[[^\]]+\])\s*=(?!=)/, why: 'sets a global' },
  { pattern: /process\.(?:on|once|chdir|umask|setMaxListeners)\(|setGlobalDispatcher\(|mock\.module\(/, why: 'changes the process for every file in it' },
  { pattern: /(?:process\.(?:stdout|stderr)\.write|console\.\w+|Date\.now|Math\.random)\s*=(?!=)/, why: 'replaces a function every file in the process calls' },
  { pattern: /createHook\(|getActiveResourcesInfo\(/, why: 'watches resources the other files in its process make' },
];

function testFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name.startsWith('.') ? [] : testFiles(`${dir}/${e.name}`)) : e.name.endsWith('.test.ts') ? [`${dir}/${e.name}`] : [],
  );
}

/** The reasons `text` (a test file) cannot share a process, unless it is marked to run alone. */
function sharedStateIn(text: string): string[] {
  if (/^\/\/ Runs alone: \S/m.test(text)) return [];
  return SHARED_STATE.filter(({ pattern }) => pattern.test(text)).map(({ why }) => why);
}

describe('test files that share a process', () => {
  it('leave the process as they found it', () => {
    // This file plants each pattern in strings below.
    const files = testFiles('test').filter((f) => f !== 'test/architecture/test-isolation.test.ts');
    assert.ok(files.length > 100, `${files.length} test files`);
    const found = files.flatMap((f) => sharedStateIn(readFileSync(path.join(root, f), 'utf8')).map((why) => `${f}: ${why}`));
    assert.deepEqual(found, [], 'keep the state inside a describe() and pass environments to child processes, or mark the file `// Runs alone: <why>`');
  });

  it('bites on each kind of shared state, and not on a file marked to run alone', () => {
    const planted = [
      "before(async () => { app = await createTestApp(); });",
      "  process.env.MODELSIGN_KEK = 'x';",
      'delete process.env.DATABASE_URL;',
      'globalThis.fetch = fake;',
      "process.on('exit', cleanup);",
      'process.stderr.write = capture;',
      'const hook = createHook({ init() {} });',
    ];
    for (const line of planted) assert.equal(sharedStateIn(`import { describe } from 'node:test';\n${line}\n`).length, 1, line);
    assert.deepEqual(sharedStateIn("describe('x', () => { before(() => {}); const env = { ...process.env, A: '1' }; if (process.env.A === '1') {} });\n"), []);
    assert.deepEqual(sharedStateIn("// Runs alone: it installs a global dispatcher\nprocess.on('exit', cleanup);\n"), []);
  });
});
