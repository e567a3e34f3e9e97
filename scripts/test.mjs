// `npm test`: the whole suite on the embedded PGlite, then the database-backed part again on
// PostgreSQL (TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres: the files
// outside test/core that reach test/support/db.ts through their imports, unless a file says it
// runs once with a line `// Runs once: <why>`), then the
// quick fault tests (test/faults, real service processes on PostgreSQL) one at a time, so their
// load does not disturb other tests. When PostgreSQL is unreachable the second pass and the
// fault tests are skipped with a notice, unless MODELSIGN_TEST_REQUIRE_POSTGRES=1 (CI sets it),
// in which case the run fails. `npm run test:faults` (`--faults`) runs the slow fault tests
// (*.slow.test.ts), which together take several minutes. `npm run test:hsm` (`--hsm`) runs the
// PKCS#11 tests: test/hsm, then the files marked `// Key backends: kek, pkcs11` again with their
// keys in a SoftHSM2 token (MODELSIGN_TEST_KEY_BACKEND=pkcs11), on PGlite and (those not marked
// `Runs once`) PostgreSQL, then test/faults/hsm-*.test.ts; without SoftHSM2 it skips with a
// notice unless MODELSIGN_TEST_REQUIRE_SOFTHSM=1 (CI sets it).
//
// Arguments name test files or folders (a folder stands for every *.test.ts under it, at any
// depth; `npm test -- test/core`); a path that does not exist is an error, never a run of
// nothing. `--pglite-only` runs the PGlite pass alone (no PostgreSQL pass, no fault tests): the
// quick loop while working, and the runs under faketime, where only the embedded database lives in
// the faked process tree (a PostgreSQL server already running keeps the real clock).
// `npm run test:external` (`--external`) runs the files marked `// Tier: external`, which npm
// test leaves out: the end-to-end tests of the other clients and readers, whose cost is mostly the
// programs they start (the console in Chromium, Go's tlog and note code, nginx serving a mirror,
// the Python client's commands and loader hooks). CI runs them after npm test, requiring each
// program; a file named on the command line runs whatever its tier.
// In the PGlite and PostgreSQL passes (and the quick tier) the test files share a few processes
// ("groups", below: loading the service's modules once a group, not once a file);
// MODELSIGN_TEST_GROUPS=0 gives each file its own process again.
// `npm run test:quick` (`--quick`) runs the tier a developer runs while working, in about a
// minute: test/core, test/architecture and the files marked `// Tier: quick` (pure service
// logic, CLI and console units), with no PGlite template, no database and no PostgreSQL probe; a
// file marked quick that reaches test/support/db.ts is an error.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const invokedFrom = process.cwd();
process.chdir(root);

function testFiles(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return name.startsWith('.') || name === 'support' || name === 'vectors' || name === 'fixtures' || name === 'faults' || (name === 'hsm' && dir === 'test') ? [] : testFiles(full);
      return name.endsWith('.test.ts') ? [full] : [];
    })
    .sort();
}

/** A test file's text, read once a run (its marker lines are asked about several times). */
const sources = new Map();
function source(file) {
  if (!sources.has(file)) sources.set(file, readFileSync(file, 'utf8'));
  return sources.get(file);
}

const FLAGS = ['--external', '--faults', '--hsm', '--pglite-only', '--quick'];
const args = process.argv.slice(2);
const unknown = args.filter((a) => a.startsWith('--') && !FLAGS.includes(a));
if (unknown.length > 0) {
  console.error(`unknown option ${unknown.join(', ')}; options: ${FLAGS.join(', ')}; anything else names a test file or folder`);
  process.exit(2);
}
const faultMode = args.includes('--faults');
const hsmMode = args.includes('--hsm');
const externalMode = args.includes('--external');
const pgliteOnly = args.includes('--pglite-only');
const quickMode = args.includes('--quick');

/** The test files a path stands for: the file, or every *.test.ts under a folder (as testFiles walks it). */
function expand(arg) {
  const file = path.relative(root, path.resolve(invokedFrom, arg));
  if (!existsSync(file)) {
    console.error(`no such test file or folder: ${arg}`);
    process.exit(2);
  }
  if (!statSync(file).isDirectory()) return [file];
  // `test` itself stands for the same files as no argument (fault and HSM tests have their modes).
  const files = testFiles(file);
  if (files.length === 0) {
    console.error(`no *.test.ts under ${arg}`);
    process.exit(2);
  }
  return files;
}
const only = [...new Set(args.filter((a) => !FLAGS.includes(a)).flatMap(expand))];
const faultFiles = readdirSync(path.join('test', 'faults'))
  .filter((name) => !externalMode && name.endsWith('.test.ts') && (hsmMode ? name.startsWith('hsm-') : !name.startsWith('hsm-') && name.endsWith('.slow.test.ts') === faultMode))
  .map((name) => path.join('test', 'faults', name))
  .sort();
const bothBackends = (file) => /^\/\/ Key backends: kek, pkcs11$/m.test(source(file));
const external = (file) => /^\/\/ Tier: external\b/m.test(source(file));
const named = only.filter((f) => !f.startsWith(path.join('test', 'faults')));
const all = externalMode
  ? (only.length > 0 ? named : testFiles('test')).filter(external)
  : only.length > 0
    ? named
    : faultMode
      ? []
      : hsmMode
        ? [...testFiles(path.join('test', 'hsm')), ...testFiles('test').filter(bothBackends)]
        : testFiles('test').filter((f) => !external(f));
const faults = only.length > 0 ? only.filter((f) => f.startsWith(path.join('test', 'faults'))) : faultFiles;
/** Whether `file` imports test/support/db.ts, directly or through other test files. */
function usesDatabase(file, seen = new Set()) {
  if (seen.has(file)) return false;
  seen.add(file);
  if (file === path.join('test', 'support', 'db.ts')) return true;
  const text = source(file);
  return [...text.matchAll(/(?:from\s+|import\()\s*'(\.[^']+\.ts)'/g)]
    .map((m) => path.join(path.dirname(file), m[1]))
    .some((dep) => dep.startsWith('test') && existsSync(dep) && usesDatabase(dep, seen));
}

if (quickMode) {
  const marked = (file) => /^\/\/ Tier: quick$/m.test(source(file));
  const quick = [...new Set([...testFiles(path.join('test', 'core')), ...testFiles(path.join('test', 'architecture')), ...testFiles('test').filter(marked)])].sort();
  // Marked files must not open a database; the few test/core files that sign through a test
  // service (the portable verifier's) run on PGlite, each migrating its own (no template).
  const withDatabase = quick.filter((f) => !f.startsWith(path.join('test', 'core')) && usesDatabase(f));
  if (withDatabase.length > 0) {
    console.error(`a file marked \`// Tier: quick\` opens no database, but these reach test/support/db.ts: ${withDatabase.join(', ')}`);
    process.exit(2);
  }
  process.exit(run('Quick tier', quick, { MODELSIGN_TEST_DB: 'pglite' }) === 0 ? 0 : 1);
}

// Pure tests (core logic, vectors), tests that never open a database, and tests whose subject is
// a client of the service, not its storage (marked `// Runs once: <why>`), run once.
const runsOnce = (file) => /^\/\/ Runs once: \S/m.test(source(file));
const dbTests = all.filter((f) => !f.startsWith(path.join('test', 'core')) && usesDatabase(f) && !runsOnce(f));

// The runner starts files in the order given, `concurrency` at a time, so a long file started
// last keeps the pass waiting on it alone. Files known to be long (browsers, real processes,
// several instances, the fuzzer) start first (in groups of their own, below); the rest keep
// their order. Two `npm test` runs in one checkout at once would overwrite each other's groups.
// (A function declaration, so that the quick tier, which runs before this line is reached, can use it.)
function isLong(file) {
  return [/\.browser\.test\.ts$/, /^test\/cli\//, /instances\.test\.ts$/, /^test\/upgrade\//, /fuzz\.test\.ts$/, /^test\/deploy\//, /^test\/interop\//].some((r) => r.test(file));
}
function longFirst(files) {
  return [...files].sort((a, b) => Number(isLong(b)) - Number(isLong(a)));
}

// Most test files spend more CPU loading the service's modules (through tsx) than running their
// tests: about 2 s a file. Node 20 starts a process per file and has no option to share one (22's
// --experimental-test-isolation=none), so the files are imported into a few group files, each
// one process that loads the modules once and runs its files' tests one after another, as a
// file's own tests run. Sharing a process is safe: no test file sets process-wide state at its
// top level (hooks, environment, globals; test/architecture checks it); a file that must have a
// process of its own says so with a line `// Runs alone: <why>`. The long files (above) make
// groups of their own, which start first; then the files that run alone; then the short ones
// (a unit marked for the quick tier is short wherever it lives). Within each kind, files go to
// groups by size, largest first, each onto the group with the fewest bytes so far.
// MODELSIGN_TEST_GROUPS=N sets the number of groups of each kind; 0 runs a process a file.
// (Declarations only, like longFirst: the quick tier runs before a `const` here would be set.)
function grouped(label, files) {
  const GROUPS = Number(process.env.MODELSIGN_TEST_GROUPS ?? 6);
  if (!Number.isInteger(GROUPS) || GROUPS < 0) {
    console.error(`MODELSIGN_TEST_GROUPS is a whole number of groups (0: a process a file), not ${process.env.MODELSIGN_TEST_GROUPS}`);
    process.exit(2);
  }
  if (GROUPS === 0) return longFirst(files);
  const marked = (f, line) => line.test(source(f));
  const alone = files.filter((f) => marked(f, /^\/\/ Runs alone: \S/m));
  const long = files.filter((f) => !alone.includes(f) && isLong(f) && !marked(f, /^\/\/ Tier: quick$/m));
  const short = files.filter((f) => !alone.includes(f) && !long.includes(f));
  return [...pack(`${label}-long`, long, GROUPS), ...alone, ...pack(label, short, GROUPS)];
}

/** Writes `files` into at most `count` group files (test/.cache/groups/NAME-i.ts) and returns their paths. */
function pack(name, files, count) {
  if (files.length < 2) return files;
  const groups = Array.from({ length: Math.min(count, files.length) }, () => ({ bytes: 0, files: [] }));
  const sizes = new Map(files.map((f) => [f, statSync(f).size]));
  for (const f of [...files].sort((a, b) => sizes.get(b) - sizes.get(a))) {
    const g = groups.reduce((min, x) => (x.bytes < min.bytes ? x : min));
    g.bytes += sizes.get(f);
    g.files.push(f);
  }
  const dir = path.join('test', '.cache', 'groups');
  mkdirSync(dir, { recursive: true });
  return groups.map((g, i) => {
    const file = path.join(dir, `${name.replace(/[^A-Za-z0-9]+/g, '-')}-${i + 1}.ts`);
    const imports = g.files.sort().map((f) => `import '${path.relative(dir, f).split(path.sep).join('/')}';`);
    writeFileSync(file, `// Written by scripts/test.mjs: these test files, in one process.\n${imports.join('\n')}\n`);
    console.log(`# ${file}: ${g.files.join(' ')}`);
    return file;
  });
}

function run(label, files, env, { concurrency = 2, group = true } = {}) {
  if (files.length === 0) return 0;
  console.log(`\n# ${label}: ${files.length} files`);
  files = group ? grouped(label, files) : longFirst(files);
  // A test that hangs fails after 15 minutes (tests that need longer say so themselves), and a
  // pass that hangs outside any test (a hook, a handle left open) is stopped after 40: CI reports
  // a failure instead of waiting for its own limit.
  // MODELSIGN_TEST_TIMINGS=DIR also writes each pass's TAP (every top-level test's duration) to
  // DIR, for `node scripts/test-timings.mjs DIR`: where the suite's time goes.
  const timings = process.env.MODELSIGN_TEST_TIMINGS && path.resolve(invokedFrom, process.env.MODELSIGN_TEST_TIMINGS);
  if (timings) mkdirSync(timings, { recursive: true });
  const reporters = timings
    ? ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${path.join(timings, `${label.replace(/[^A-Za-z0-9]+/g, '-')}.tap`)}`]
    : ['--test-reporter=spec'];
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=900000', ...reporters, ...files], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
    timeout: 40 * 60_000,
    killSignal: 'SIGKILL',
  });
  if (result.error?.code === 'ETIMEDOUT') console.error(`\n# ${label}: stopped after 40 minutes (a test or hook hung)`);
  return result.status ?? 1;
}

const SOFTHSM = process.env.MODELSIGN_TEST_SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
if (hsmMode && !existsSync(SOFTHSM)) {
  if (process.env.MODELSIGN_TEST_REQUIRE_SOFTHSM === '1') {
    console.error(`SoftHSM2 is required (MODELSIGN_TEST_REQUIRE_SOFTHSM=1) but ${SOFTHSM} is missing: apt-get install softhsm2`);
    process.exit(1);
  }
  console.warn(`\n# NOTICE: ${SOFTHSM} is missing; the PKCS#11 passes were skipped (apt-get install softhsm2).`);
  process.exit(0);
}

// Commands the tests spawn run prebuilt (bin/modelsign.js) only while the build is newer than
// src/: build them from the sources as they are now, so an edited checkout tests its edits at the
// speed a clean one does.
const built = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

mkdirSync('test/.cache', { recursive: true });
const template = path.resolve('test/.cache/pglite-template.tar');
const prep = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/make-pglite-template.ts', template], { stdio: 'inherit' });
if (prep.status !== 0) process.exit(prep.status ?? 1);

const backend = hsmMode ? { MODELSIGN_TEST_KEY_BACKEND: 'pkcs11' } : {};
// In the PKCS#11 passes each file keeps its process: test/support/softhsm.ts makes one token a
// process, and the files count the objects in it.
let failed = run(hsmMode ? 'PGlite, keys in SoftHSM2' : 'PGlite', all, { MODELSIGN_TEST_DB: 'pglite', MODELSIGN_TEST_PGLITE_TEMPLATE: template, ...backend }, { group: !hsmMode });

if (pgliteOnly) {
  console.log('\n# --pglite-only: the PostgreSQL pass and the fault tests were not run.');
  process.exit(failed === 0 ? 0 : 1);
}

const reach = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/postgres-reachable.ts'], { stdio: 'inherit' });
if (reach.status === 0) {
  failed += run(hsmMode ? 'PostgreSQL, keys in SoftHSM2' : 'PostgreSQL', dbTests, { MODELSIGN_TEST_DB: 'postgres', ...backend }, { group: !hsmMode });
  failed += run(faultMode ? 'Fault tests (slow)' : 'Fault tests', faults, { MODELSIGN_TEST_DB: 'postgres' }, { concurrency: 1, group: false });
} else if (process.env.MODELSIGN_TEST_REQUIRE_POSTGRES === '1') {
  console.error('PostgreSQL is required (MODELSIGN_TEST_REQUIRE_POSTGRES=1) but unreachable');
  failed += 1;
} else {
  console.warn('\n# NOTICE: PostgreSQL is unreachable; the PostgreSQL pass was skipped. Set TEST_DATABASE_URL to run it.');
}
process.exit(failed === 0 ? 0 : 1);
