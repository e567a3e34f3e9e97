// `npm run bench:witness`: a witnessed log under load, against the same service without witnesses
// in the same run (two modelsign processes, each on its own PostgreSQL database; three test
// witnesses, test/support/test-witness.ts, in a process of their own (bench/witness-server.ts), each
// paced at MODELSIGN_WITNESS_PACE 1s, all three required). Prints:
// - the signing ratio, witnessed / not, median of BENCH_PAIRS (3) alternating measurements
//   (target >= 0.95);
// - how long after a 201 the release's witness proof is served, over BENCH_PROOFS (100) releases
//   signed one after another at about ten a second (target: p99 <= 2 s);
// - with one witness stopped: signing still answers 201 and the proofs wait (404), and once it is
//   back they come;
// - that each proof verifies offline with the user's policy (the portable verifier).
// Options (environment): BENCH_SECONDS (10), BENCH_CONNECTIONS (50), BENCH_LOG_LEVEL (warn), TEST_DATABASE_URL.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { keySet, parseWitnessPolicy, verifyBundle } from '../src/core/verifier.ts';
import { trustedKeysFromJwks } from '../src/core/keys/jwks.ts';
import { createPostgresDatabase } from '../test/support/db.ts';
import { measure, pass, serviceEnv, start } from './support.ts';

const BIN = fileURLToPath(new URL('../bin/modelsign.js', import.meta.url));
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
const PROOFS = Number(process.env.BENCH_PROOFS ?? 100);
const ORIGIN = 'bench.modelsign.test';
const digest = (n: number) => n.toString(16).padStart(64, '0');
let counter = 0;
const releaseBody = () => {
  const n = ++counter;
  return JSON.stringify({ model: 'acme/bench', version: `${process.pid}.${n}`, files: [{ path: 'model.safetensors', sha256: digest(n), size: 4_000_000_000 }, { path: 'config.json', sha256: digest(n + 1), size: 1_024 }] });
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The witnesses run in a process of their own (bench/witness-server.ts), driven over its stdin.
const server = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./witness-server.ts', import.meta.url)), '10', '11', '12'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, BENCH_ORIGIN: ORIGIN } });
const lines = createInterface({ input: server.stdout! })[Symbol.asyncIterator]();
const nextLine = async () => (await lines.next()).value as string;
const witnesses = JSON.parse(await nextLine()) as { name: string; vkey: string; url: string }[];
const command = async (line: string) => {
  server.stdin!.write(`${line}\n`);
  if ((await nextLine()) !== 'ok') throw new Error(`the witness server did not take ${line}`);
};
const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-bench-witness-'));
const children: ChildProcess[] = [];
const databases = [await createPostgresDatabase(), await createPostgresDatabase()];
let ok = true;
try {
  const policy = `${witnesses.map((w, i) => `witness w${i} ${w.vkey} ${w.url}`).join('\n')}\ngroup all3 all w0 w1 w2\nquorum all3\n`;
  const policyFile = path.join(dir, 'witnesses.policy');
  writeFileSync(policyFile, policy);
  const envs = [
    { ...serviceEnv(databases[0]!.url), MODELSIGN_LOG_ORIGIN: ORIGIN },
    { ...serviceEnv(databases[1]!.url), MODELSIGN_LOG_ORIGIN: ORIGIN, MODELSIGN_WITNESS_POLICY: policyFile, MODELSIGN_WITNESS_PACE: 'w0=1s,w1=1s,w2=1s' },
  ];
  const services = [];
  for (const env of envs) {
    const service = await start([BIN, 'serve'], env);
    children.push(service.child);
    const admin = spawnSync(process.execPath, [BIN, 'admin', 'token', '--role', 'admin', '--subject', 'bench'], { env: { ...process.env, ...env }, encoding: 'utf8' }).stdout.trim();
    const post = (p: string, body: object, token: string) => fetch(service.base + p, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<Record<string, string>>);
    await post('/v1/admin/publishers', { name: 'acme', namespaces: ['acme'] }, admin);
    services.push({ base: service.base, publisher: (await post('/v1/admin/tokens', { role: 'publisher', publisher: 'acme', ttl: '1d' }, admin)).token! });
  }
  const [plain, witnessed] = services as [{ base: string; publisher: string }, { base: string; publisher: string }];
  await command(`vkey ${(await (await fetch(`${witnessed.base}/v1/log/vkey`)).text()).trim()}`);

  console.log(`\nsigning, ${PAIRS} alternating pairs (three witnesses paced at 1 s, all required)`);
  const ratios: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const a = await measure('POST /v1/signatures, no witnesses', `${plain.base}/v1/signatures`, { method: 'POST', headers: { authorization: `Bearer ${plain.publisher}` }, body: releaseBody });
    const b = await measure('POST /v1/signatures, witnessed', `${witnessed.base}/v1/signatures`, { method: 'POST', headers: { authorization: `Bearer ${witnessed.publisher}` }, body: releaseBody });
    ratios.push(b.rps / a.rps);
    ok &&= a.errors + a.non2xx + b.errors + b.non2xx === 0;
  }
  const ratio = [...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)]!;

  const signOne = async () => {
    const res = await fetch(`${witnessed.base}/v1/signatures`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${witnessed.publisher}` }, body: releaseBody() });
    if (res.status !== 201) throw new Error(`signing answered ${res.status}`);
    return (await res.json()) as { id: string; bundle: unknown };
  };
  const proofOf = async (id: string) => {
    const res = await fetch(`${witnessed.base}/v1/signatures/${id}/tlog-proof`);
    return res.status === 200 ? res.text() : undefined;
  };

  console.log(`\nproof latency: ${PROOFS} releases, one every ~100 ms`);
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const keys = keySet(trustedKeysFromJwks(await (await fetch(`${witnessed.base}/v1/keys`)).json())!);
  const userPolicy = parseWitnessPolicy(`${witnesses.map((w, i) => `witness w${i} ${w.vkey}`).join('\n')}\ngroup all3 all w0 w1 w2\nquorum all3\n`);
  let verified = 0;
  for (let i = 0; i < PROOFS; i++) {
    const signed = await signOne();
    const at = performance.now();
    pending.push(
      (async () => {
        for (;;) {
          const proof = await proofOf(signed.id);
          if (proof) {
            latencies.push(performance.now() - at);
            if (verifyBundle(signed.bundle, { ...keys, witnesses: { policy: userPolicy, proof, now: Date.now() } }).valid) verified++;
            return;
          }
          if (performance.now() - at > 30_000) throw new Error(`no proof for ${signed.id} in 30 s`);
          await sleep(20);
        }
      })(),
    );
    await sleep(100);
  }
  await Promise.all(pending);
  latencies.sort((x, y) => x - y);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  console.log(`  p50 ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms; ${verified} of ${PROOFS} verify offline with the policy`);

  console.log('\none witness stopped (all three required)');
  await command('stop 2');
  const during = [];
  for (let i = 0; i < 5; i++) during.push(await signOne());
  await sleep(4_000);
  const waiting = (await Promise.all(during.map((s) => proofOf(s.id)))).filter((p) => p === undefined).length;
  console.log(`  5 of 5 signed (201); ${waiting} of 5 proofs still waiting after 4 s`);
  await command('start 2');
  let after = 0;
  for (let n = 0; n < 300 && after < 5; n++) {
    await sleep(100);
    after = (await Promise.all(during.map((s) => proofOf(s.id)))).filter(Boolean).length;
  }
  console.log(`  witness back: ${after} of 5 proofs served`);

  console.log('');
  console.log(`signing ratio witnessed / not: ${ratio.toFixed(2)} (ratios ${ratios.map((r) => r.toFixed(2)).join(' ')}; target >= 0.95: ${pass(ratio >= 0.95)})`);
  console.log(`proof p99 after signing: ${q(0.99).toFixed(0)} ms (target <= 2000: ${pass(q(0.99) <= 2000)})`);
  console.log(`a witness down: signing on, proofs waiting (${pass(waiting === 5)}), then served (${pass(after === 5)})`);
  console.log(`proofs verify offline with the policy: ${verified} of ${PROOFS} (${pass(verified === PROOFS)})`);
  ok &&= ratio >= 0.95 && q(0.99) <= 2000 && waiting === 5 && after === 5 && verified === PROOFS;
} finally {
  for (const child of children) child.kill('SIGTERM');
  await sleep(500);
  server.kill('SIGTERM');
  for (const d of databases) await d.drop();
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
