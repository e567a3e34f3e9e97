// Where the suite's time goes: reads the TAP files `MODELSIGN_TEST_TIMINGS=DIR npm test` wrote
// and prints each pass's top-level tests (a file's outermost describe), longest first, with their
// share of the pass's test-time.
// Usage: node scripts/test-timings.mjs DIR [--top N]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const [dir, ...rest] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/test-timings.mjs DIR [--top N]');
  process.exit(2);
}
const topIndex = rest.indexOf('--top');
const top = topIndex >= 0 ? Number(rest[topIndex + 1]) : 25;

for (const name of readdirSync(dir).filter((n) => n.endsWith('.tap')).sort()) {
  // Node 20's TAP names no file: the top-level tests are each file's outermost describe()/test()
  // (one per file, by the house's habit), indented by nothing, with duration_ms in the YAML
  // block that follows. Time a file spends outside them (starting node, loading modules) is not
  // in these figures.
  const lines = readFileSync(path.join(dir, name), 'utf8').split('\n');
  const tests = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(?:not )?ok \d+ - (.+)$/.exec(lines[i]);
    if (!m) continue;
    for (let j = i + 1; j < Math.min(i + 8, lines.length); j++) {
      const d = /^ {2}duration_ms: ([\d.]+)/.exec(lines[j]);
      if (d) {
        tests.push({ name: m[1], ms: Number(d[1]) });
        break;
      }
    }
  }
  const total = tests.reduce((s, f) => s + f.ms, 0);
  console.log(`\n# ${name.replace(/\.tap$/, '')}: ${tests.length} top-level tests, ${(total / 1000).toFixed(0)} s of test-time`);
  for (const t of tests.sort((a, b) => b.ms - a.ms).slice(0, top)) {
    console.log(`${(t.ms / 1000).toFixed(1).padStart(7)} s  ${((100 * t.ms) / total).toFixed(1).padStart(5)} %  ${t.name}`);
  }
}
