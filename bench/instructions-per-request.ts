// `node --import tsx bench/instructions-per-request.ts [DIR]`: the machine instructions the modelsign
// process executes per request, counted by valgrind's callgrind, for a fixed number of requests:
// POST /v1/signatures (Ed25519, then ECDSA P-256) and GET /v1/signatures/{id}, on PostgreSQL. DIR
// is the checkout whose `bin/modelsign.js serve` is measured (default: this one), so
// `node scripts/bench-compare.mjs REV instructions` holds an older commit to the same load.
//
// Why beside the throughput and CPU-time benches: on these 2-core VMs one commit's reads ratio
// moved from 0.41 to 0.65 between runs of one compare, and the service's CPU time per read from
// 54 to 128 µs between processes half an hour apart. An instruction count does not depend on what else the machine is doing, but it
// is not steady either: one process's rounds moved by up to ±15 % even without compiling, since
// when the JIT compiles and the collector runs depends on timing; compare medians of several.
// It counts user-space instructions only: not the kernel's work (a read's `writev` to the socket
// was 37 % of the service's profile samples), not the time an instruction takes, and not
// PostgreSQL's work (another process).
// The service runs some 30 times slower under callgrind: the counts are taken with few
// connections and requests, after a warm-up that is not counted (instrumentation off). What the
// service does every second whatever the load (the checkpointer's look, the pool, the state
// watcher) is counted per second of the longer run, so it would weigh some 30 times more per
// request than it does at full speed: before each measure the same process is counted idle in
// BENCH_IDLE_SECONDS windows of a second, and the median window's rate times the measure's seconds
// is taken off (both printed). The median, since one window sometimes holds a burst left by the
// load before (a collection, a compile finishing): once, a single 5 s window counted some 240
// million instructions of it, which taken off a signing measure left under a third of its count.
//
// The warm-up is short (every request costs some 30 times more under callgrind), and V8 keeps
// compiling for a while after it: at full speed, V8 optimized 572, 230, 78, 26, 24, 10, 10 and
// 2 functions in successive rounds of 2,000 signings (--trace-opt), and under callgrind its
// compilers were two fifths of what a signing measure counted. That cost is paid once per
// process, so it says little about a long-running service; how much of it falls inside the
// measure follows the code's shape and timing. Each measure therefore also prints its count
// without the instructions spent in V8's compilers (symbols in v8::internal::compiler, maglev,
// baseline; the assembler; zone memory), read from the dump with callgrind_annotate; bench-compare
// tabulates both lines.
//
// Options (environment): BENCH_ROUNDS (default 2; each prints its own lines),
// BENCH_SIGN_REQUESTS (400), BENCH_READ_REQUESTS (3000), BENCH_IDLE_SECONDS (5), BENCH_LOG_LEVEL (warn),
// TEST_DATABASE_URL,
// BENCH_CALLGRIND_KEEP (a folder: each measure's dump is kept there as `<label>-<round>.out`, for
// `callgrind_annotate`, which tells where the instructions went by native symbol: V8's builtins,
// its collector and compilers, OpenSSL; JIT-compiled JavaScript shows as `???`).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createPostgresDatabase } from '../test/support/db.ts';
import { benchPublisher, caller, median, releaseBody, serviceEnv, start } from './support.ts';

const dir = path.resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
const BIN = path.join(dir, 'bin/modelsign.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SIGN_REQUESTS = Number(process.env.BENCH_SIGN_REQUESTS ?? 400);
const READ_REQUESTS = Number(process.env.BENCH_READ_REQUESTS ?? 3000);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 5);
const KEEP = process.env.BENCH_CALLGRIND_KEEP;
const CONNECTIONS = 4;

if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');

const work = mkdtempSync(path.join(tmpdir(), 'modelsign-bench-instructions-'));
const OUT = path.join(work, 'callgrind.out');
const control = (...args: string[]) => {
  const r = spawnSync('callgrind_control', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')}: ${r.stderr}`);
};
/** Instructions in V8's compilers (see above), from a dump's per-function (self) counts. */
const COMPILER = /v8::internal::(compiler|maglev|baseline)::|v8::internal::(Assembler|Zone)\b|v8::internal::\w*Zone\w*Allocat/;
const compilerInstructions = (file: string): number => {
  const r = spawnSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`callgrind_annotate ${file}: ${r.stderr}`);
  let sum = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (m && !m[2]!.includes('PROGRAM TOTALS') && COMPILER.test(m[2]!)) sum += Number(m[1]!.replaceAll(',', ''));
  }
  return sum;
};

/** The newest dump (callgrind.out.N, N counting up) and the instructions counted in it. */
const lastDump = (): { file: string; instructions: number } => {
  const dumps = readdirSync(work).filter((f) => /^callgrind\.out\.\d+$/.test(f)).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  const file = path.join(work, dumps.at(-1)!);
  const m = /^totals: (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no totals in ${file}`);
  return { file, instructions: Number(m[1]) };
};
if (KEEP) mkdirSync(KEEP, { recursive: true });

const db = await createPostgresDatabase();
let service: { child: ChildProcess; base: string } | undefined;
try {
  // A transaction of the first start can outlast Prisma's 5 s limit under callgrind: try again.
  const env = serviceEnv(db.url);
  for (let attempt = 1; !service; attempt++) {
    try {
      // Start-up under callgrind takes tens of seconds; its own lines go to stderr.
      service = await start(['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${OUT}`, process.execPath, BIN, 'serve'], env, { command: 'valgrind', waitMs: 300_000 });
    } catch (error) {
      if (attempt === 3) throw error;
      console.log(`# start ${attempt} failed under callgrind; again`);
    }
  }
  const pid = String(service.child.pid!);
  const call = caller(service.base);
  const publisher = await benchPublisher(BIN, env, call);
  const signed = await call('POST', '/v1/signatures', JSON.parse(releaseBody('acme')), publisher);

  const load = async (label: string, url: string, amount: number, request: autocannon.Request) => {
    const result = await autocannon({ url, connections: CONNECTIONS, amount, timeout: 60, requests: [request] });
    if (result.errors + result.timeouts + result.non2xx > 0) throw new Error(`${label}: ${result.errors + result.timeouts} errors, ${result.non2xx} non-2xx answers`);
  };
  /** Instructions counted while `during` runs, and its seconds. */
  const counted = async (during: () => Promise<unknown>): Promise<{ file: string; instructions: number; compiling: number; seconds: number }> => {
    control('-z', pid);
    control('-i', 'on', pid);
    const t0 = performance.now();
    await during();
    const seconds = (performance.now() - t0) / 1000;
    control('-i', 'off', pid);
    control('-d', pid);
    const dump = lastDump();
    return { ...dump, compiling: compilerInstructions(dump.file), seconds };
  };
  const measure = async (label: string, url: string, amount: number, request: autocannon.Request, round: number) => {
    await load(label, url, amount, request); // warm-up, not counted: JIT, pools, caches
    const windows = [];
    for (let w = 0; w < IDLE_SECONDS; w++) windows.push(await counted(() => new Promise((r) => setTimeout(r, 1000))));
    const idlePerSecond = median(windows.map((w) => w.instructions / w.seconds));
    const idleSteadyPerSecond = median(windows.map((w) => (w.instructions - w.compiling) / w.seconds));
    const busy = await counted(() => load(label, url, amount, request));
    const net = busy.instructions - idlePerSecond * busy.seconds;
    const steady = busy.instructions - busy.compiling - idleSteadyPerSecond * busy.seconds;
    if (KEEP) copyFileSync(busy.file, path.join(KEEP, `${label.replaceAll(' ', '-')}-${round}.out`));
    console.log(`# ${label}: ${busy.instructions} instructions in ${busy.seconds.toFixed(1)} s, ${busy.compiling} of them in V8's compilers; idle ${Math.round(idlePerSecond)} a second (median of ${windows.length} windows), ${Math.round((idlePerSecond * busy.seconds) / amount)} a request taken off`);
    console.log(`instructions per request (${label}) ${Math.round(net / amount)}`);
    console.log(`instructions per request (${label}, without compiling) ${Math.round(steady / amount)}`);
  };
  const signing = (namespace: string): autocannon.Request => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisher}` },
    setupRequest: (req: autocannon.Request) => ({ ...req, body: releaseBody(namespace) }),
  });
  console.log(`# ${BIN} serve under callgrind, PostgreSQL, ${CONNECTIONS} connections; ${SIGN_REQUESTS} signing and ${READ_REQUESTS} read requests a measure`);
  for (let round = 0; round < ROUNDS; round++) {
    await measure('sign ed25519', `${service.base}/v1/signatures`, SIGN_REQUESTS, signing('acme'), round);
    await measure('sign ecdsa-p256', `${service.base}/v1/signatures`, SIGN_REQUESTS, signing('acme-ec'), round);
    await measure('read', `${service.base}/v1/signatures/${signed.id}`, READ_REQUESTS, { method: 'GET', headers: { 'content-type': 'application/json' } }, round);
  }
} finally {
  service?.child.kill('SIGKILL');
  await db.drop();
  rmSync(work, { recursive: true, force: true });
}
