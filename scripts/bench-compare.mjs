// `node scripts/bench-compare.mjs REV BENCH... [--runs N] [--head REV2]`: this checkout's benches
// (or commit REV2's) against commit REV's, back to back on this machine. REV (and REV2) is checked
// out into a temporary worktree (with its own `npm ci`, removed afterwards); then each named bench (`sign`, `verify`, ...: `npm run
// bench:NAME`) runs N times (default 5) alternately at REV and here, so drift on a noisy machine
// falls on both alike. Every ratio line a bench prints ("signing ratio (ed25519) 0.81 ...",
// "batch signing ...: 2.41x", ...) is collected; the table gives each one's runs, the median at
// REV and here, and here/REV. A bench that exits non-zero still counts (its ratios are what is
// compared; its own targets are not the question), but one that prints no ratio stops the run.
//
// `cpu` and `instructions` are not npm scripts of the compared commits: each is this checkout's
// bench/cpu-per-request.ts or bench/instructions-per-request.ts pointed at each side's checkout (so
// any older commit can be measured); their figures are microseconds of the service's CPU, or the
// instructions callgrind counts in it, per request: lower is better.
//
// Why a script: acceptance criteria that say "ratios >= 0.95x those of the commit before, median
// of 5" need the same procedure every time, and by hand the order (all of one, then the other)
// is what a noisy machine punishes most.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshBuild } from '../bin/prebuilt.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
};
const runs = Number(option('--runs') ?? 5);
const headRev = option('--head');
const positional = args.filter((a, i) => !a.startsWith('--') && !['--runs', '--head'].includes(args[i - 1]));
const [rev, ...benches] = positional;
if (!rev || benches.length === 0 || !Number.isInteger(runs) || runs < 1 || args.includes('--head') !== (headRev !== undefined)) {
  console.error('usage: node scripts/bench-compare.mjs REV BENCH... [--runs N] [--head REV2]   (e.g. 9f19279 sign verify --runs 5; BENCH may be cpu or instructions)');
  process.exit(2);
}

/** Benches that are this checkout's scripts, given the other checkout's folder (not its npm scripts). */
const OWN_BENCHES = { cpu: 'bench/cpu-per-request.ts', instructions: 'bench/instructions-per-request.ts' };

const git = (...a) => {
  const r = spawnSync('git', a, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${a.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
const baseCommit = git('rev-parse', '--verify', `${rev}^{commit}`);
const headCommit = headRev && git('rev-parse', '--verify', `${headRev}^{commit}`);
const here = headCommit ? headCommit.slice(0, 7) : git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? ' (with uncommitted changes)' : '');
const scratch = mkdtempSync(path.join(tmpdir(), 'modelsign-bench-'));
const worktrees = [];
/** A worktree of `commit` with its dependencies installed. */
function checkout(commit, name) {
  const dir = path.join(scratch, name);
  git('worktree', 'add', '--detach', dir, commit);
  worktrees.push(dir);
  console.log(`# ${commit.slice(0, 7)} in ${dir}: npm ci`);
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  if (ci.status !== 0) throw new Error(`npm ci at ${commit} failed`);
  return dir;
}
try {
  const worktree = checkout(baseCommit, 'base');
  const headDir = headCommit ? checkout(headCommit, 'head') : root;
  // This checkout's service runs prebuilt only while the build is newer than src/ (bin/prebuilt.js);
  // otherwise from the sources through tsx, which is not what is measured at the other side. Built
  // once here if stale; an edit under src/ during the compare stops it instead of quietly changing
  // how one side runs.
  const builtHere = () => freshBuild('dist/app/modelsign.mjs', false) && freshBuild('dist/modelsign-client.mjs', true);
  if (headDir === root && !builtHere()) {
    console.log('# this checkout\'s build is older than src/: node scripts/build-cli.mjs');
    if (spawnSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0) throw new Error('scripts/build-cli.mjs failed');
  }

  /** label -> { base: number[], head: number[] } */
  const table = new Map();
  // "<name> ratio (<algorithm>) 0.81 ...", "reads ratio 0.55 ...", "batch signing ...: 2.41x ...".
  // "cpu per request (sign ed25519) 341.5 µs", "wal per request (sign ed25519) 5611 bytes" (bench/cpu-per-request.ts).
  // "instructions per request (read) 281934" (bench/instructions-per-request.ts).
  // "first mirror (7833 files): 5.13 s; cp -r: 0.34 s; ratio 15.12x ...", "1,000 new entries: ...; ratio 102.70x ...",
  // "its own time 5.02 s against ..." (bench/mirror.ts: lower is better, as for cpu).
  const RATIOS = [/^([a-z]+ ratio(?: \([^)]*\))?)\s+(\d+\.\d+)/, /^(batch signing|one pipeline) .*?: (\d+\.\d+)x/, /^(cpu per request \([^)]*\)) (\d+\.\d+) µs/, /^(wal per request \([^)]*\)) (\d+) bytes/, /^(instructions per request \([^)]*\)) (\d+)$/, /^(first mirror|1,000 new entries)\b.*; ratio (\d+\.\d+)x/, /^(its own time) (\d+\.\d+) s against/];
  const runBench = (cwd, bench, side, i) => {
    if (cwd === root && !builtHere()) throw new Error('src/ changed during the compare: this side would now run from the sources (rebuild and start again)');
    const started = Date.now();
    const own = OWN_BENCHES[bench];
    const r = own
      ? spawnSync(process.execPath, ['--import', 'tsx', path.join(root, own), cwd], { cwd: root, encoding: 'utf8', env: process.env })
      : spawnSync('npm', ['run', '--silent', `bench:${bench}`], { cwd, encoding: 'utf8', env: process.env });
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const lines = `${r.stdout}`.split('\n');
    let found = 0;
    for (const line of lines) {
      const m = RATIOS.map((re) => re.exec(line.trim())).find(Boolean);
      if (!m) continue;
      const label = `${bench}: ${m[1].replace(/\s+/g, ' ').replace(' )', ')')}`;
      if (!table.has(label)) table.set(label, { base: [], head: [] });
      table.get(label)[side].push(Number(m[2]));
      found++;
    }
    console.log(`# ${own ?? `bench:${bench}`} run ${i + 1}/${runs} at ${side === 'base' ? baseCommit.slice(0, 7) : here}: ${found} ratios, exit ${r.status}, ${seconds} s`);
    if (found === 0) throw new Error(`bench:${bench} printed no ratio at ${side}:\n${r.stdout}\n${r.stderr}`);
  };
  for (const bench of benches) {
    for (let i = 0; i < runs; i++) {
      // Alternate which side goes first, so neither always runs on a machine the other warmed.
      const order = i % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
      for (const side of order) runBench(side === 'base' ? worktree : headDir, bench, side, i);
    }
  }

  // Counts (instructions, bytes) print whole; times and ratios with two decimals.
  const figure = (x) => (x >= 1000 ? x.toFixed(0) : x.toFixed(2));
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  console.log(`\n${runs} runs each, alternating; base ${baseCommit.slice(0, 7)}, here ${here}\n`);
  if (benches.some((b) => OWN_BENCHES[b])) console.log('(cpu per request: microseconds, wal per request: bytes, instructions per request: a count; lower is better; every other line: a ratio, higher is better)\n');
  console.log(`${'ratio'.padEnd(44)} ${'runs at base'.padEnd(32)} ${'runs here'.padEnd(32)} median base  median here  here/base`);
  for (const [label, { base, head }] of table) {
    const mb = median(base);
    const mh = median(head);
    const fmt = (xs) => xs.map(figure).join(' ');
    console.log(`${label.padEnd(44)} ${fmt(base).padEnd(32)} ${fmt(head).padEnd(32)} ${figure(mb).padStart(11)}  ${figure(mh).padStart(11)}  ${(mh / mb).toFixed(3).padStart(9)}`);
  }
} finally {
  for (const dir of worktrees) spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: root });
  rmSync(scratch, { recursive: true, force: true });
}
