// `npm run bench:sign`: POST /v1/signatures (for an Ed25519 namespace and for an ECDSA P-256
// one) and GET /v1/signatures/{id} of a real modelsign process on PostgreSQL, each against a
// baseline measured in the same run on the same machine and database (bench/baseline-server.ts:
// signing with the same algorithm), with the same load generator. Prints throughput, the ratio
// to the baseline and p99 latency. Targets: signing ratio >= 0.6 with p99 <= 60 ms for each
// algorithm; reads ratio >= 0.4.
//
// `npm run bench:sign -- --backend pkcs11`: the service's keys are made and used in a SoftHSM2
// token (a temporary one, as the tests make), against the same bare baseline (node:crypto keys
// in memory). Target: Ed25519 signing ratio >= 0.5 with p99 <= 60 ms; ECDSA is reported.
//
// Options (environment): BENCH_SECONDS (default 10), BENCH_CONNECTIONS (50), BENCH_LOG_LEVEL
// (warn; the service's default is info), BENCH_NODE_ARGS (node options for the service, such as
// --cpu-prof), TEST_DATABASE_URL, MODELSIGN_PKCS11_SESSIONS, BENCH_BATCH (releases per batch
// request, 50). Batch signing (POST /v1/signatures/batch) is compared in signatures per second
// with single-request signing in the same run, both under the load above; target >= 2x. Also
// reported: one pipeline (one connection) signing releases one by one against the same pipeline
// sending them in batches.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createPostgresDatabase } from '../test/support/db.ts';
import { SOFTHSM_MODULE, softHsm, TOKEN_LABEL } from '../test/support/softhsm.ts';
import { benchPublisher, caller, CONNECTIONS, measure, releaseBody, SECONDS, serviceEnv, start } from './support.ts';

const BIN = fileURLToPath(new URL('../bin/modelsign.js', import.meta.url));
const BASELINE = fileURLToPath(new URL('./baseline-server.ts', import.meta.url));

/** Releases per batch request (BENCH_BATCH). */
const BATCH = Number(process.env.BENCH_BATCH ?? 50);

const backendArg = process.argv.indexOf('--backend');
const backend = backendArg < 0 ? 'kek' : process.argv[backendArg + 1];
if (backend !== 'kek' && backend !== 'pkcs11') throw new Error('--backend is kek or pkcs11');
const tokenEnv = (): Record<string, string> => {
  const hsm = softHsm();
  return {
    MODELSIGN_KEY_BACKEND: 'pkcs11',
    MODELSIGN_PKCS11_URI: `pkcs11:token=${TOKEN_LABEL}`,
    MODELSIGN_PKCS11_MODULE: SOFTHSM_MODULE,
    MODELSIGN_PKCS11_PIN_FILE: hsm.pinFile,
    SOFTHSM2_CONF: process.env.SOFTHSM2_CONF!,
    ...(process.env.MODELSIGN_PKCS11_SESSIONS ? { MODELSIGN_PKCS11_SESSIONS: process.env.MODELSIGN_PKCS11_SESSIONS } : {}),
  };
};
const target = backend === 'pkcs11' ? { ed25519: 0.5, 'ecdsa-p256': 0 } : { ed25519: 0.6, 'ecdsa-p256': 0.6 };

const db = await createPostgresDatabase();
const children: ChildProcess[] = [];
try {
  const env = { ...serviceEnv(db.url), ...(backend === 'pkcs11' ? tokenEnv() : {}) };
  const baseline = await start(['--import', 'tsx', BASELINE], { DATABASE_URL: db.url, POOL_SIZE: '20' });
  children.push(baseline.child);
  // BENCH_NODE_ARGS: node options for the service only, e.g. `--cpu-prof --cpu-prof-dir=DIR`.
  const service = await start([...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), BIN, 'serve'], env);
  children.push(service.child);

  const call = caller(service.base);
  const publisher = await benchPublisher(BIN, env, call);
  const signed = await call('POST', '/v1/signatures', JSON.parse(releaseBody()), publisher);

  console.log(`\n${CONNECTIONS} connections, ${SECONDS} s per measurement, PostgreSQL, LOG_LEVEL=${env.LOG_LEVEL}, keys: ${backend === 'pkcs11' ? 'SoftHSM2 token (PKCS#11)' : 'KEK-wrapped, node:crypto'}\n`);
  const signing = [];
  for (const [algorithm, namespace] of [['ed25519', 'acme'], ['ecdsa-p256', 'acme-ec']] as const) {
    const base = await measure(`baseline: Fastify + node:crypto ${algorithm} + pg`, `${baseline.base}/sign/${algorithm}`, { method: 'POST', body: () => releaseBody(namespace) });
    const sign = await measure(`modelsign: POST /v1/signatures (${algorithm})`, `${service.base}/v1/signatures`, { method: 'POST', headers: { authorization: `Bearer ${publisher}` }, body: () => releaseBody(namespace) });
    signing.push({ algorithm, base, sign, ratio: sign.rps / base.rps });
  }
  // Batch signing: BATCH releases a request; compared in signatures per second with the
  // single-request signing just measured (same algorithm, service, database and load).
  const batchBody = () => `{"items":[${Array.from({ length: BATCH }, () => releaseBody('acme')).join(',')}]}`;
  const batch = await measure(`modelsign: POST /v1/signatures/batch (ed25519, ${BATCH} a request)`, `${service.base}/v1/signatures/batch`, { method: 'POST', headers: { authorization: `Bearer ${publisher}` }, body: batchBody });
  const single = signing.find((s) => s.algorithm === 'ed25519')!.sign;
  const batchRatio = (batch.rps * BATCH) / single.rps;
  // One release pipeline signing its releases one request after another, against the same
  // pipeline sending them as one batch (reported; the target is on the loaded comparison above).
  const pipelineSingle = await measure('one pipeline: POST /v1/signatures (ed25519)', `${service.base}/v1/signatures`, { method: 'POST', connections: 1, headers: { authorization: `Bearer ${publisher}` }, body: () => releaseBody('acme') });
  const pipelineBatch = await measure(`one pipeline: POST /v1/signatures/batch (${BATCH})`, `${service.base}/v1/signatures/batch`, { method: 'POST', connections: 1, headers: { authorization: `Bearer ${publisher}` }, body: batchBody });
  const pipelineRatio = (pipelineBatch.rps * BATCH) / pipelineSingle.rps;
  const baseRead = await measure('baseline: Fastify hello', `${baseline.base}/hello`, { method: 'GET' });
  const read = await measure('modelsign: GET /v1/signatures/{id}', `${service.base}/v1/signatures/${signed.id}`, { method: 'GET' });

  const readRatio = read.rps / baseRead.rps;
  const ok = (b: boolean) => (b ? 'PASS' : 'FAIL');
  console.log('');
  for (const s of signing) {
    const goal = target[s.algorithm];
    const verdict = goal > 0 ? `(target >= ${goal}: ${ok(s.ratio >= goal)}), p99 ${s.sign.p99} ms (target <= 60: ${ok(s.sign.p99 <= 60)})` : `(reported), p99 ${s.sign.p99} ms`;
    console.log(`signing ratio (${s.algorithm.padEnd(10)}) ${s.ratio.toFixed(2)} ${verdict}`);
  }
  console.log(`reads ratio   ${readRatio.toFixed(2)} (target >= 0.4: ${ok(readRatio >= 0.4)})`);
  console.log(`batch signing ${(batch.rps * BATCH).toFixed(0)} signatures/s vs ${single.rps.toFixed(0)} single: ${batchRatio.toFixed(2)}x (target >= 2: ${ok(batchRatio >= 2)}), p99 ${batch.p99} ms a request of ${BATCH}`);
  console.log(`one pipeline  ${(pipelineBatch.rps * BATCH).toFixed(0)} signatures/s batched vs ${pipelineSingle.rps.toFixed(0)} one by one: ${pipelineRatio.toFixed(2)}x (reported)`);
  const clean = [...signing.map((s) => s.sign), read, batch, pipelineSingle, pipelineBatch].every((r) => r.errors + r.non2xx === 0);
  console.log(`errors: ${clean ? 'none' : 'SOME REQUESTS FAILED'}`);
  process.exitCode = signing.every((s) => target[s.algorithm] === 0 || (s.ratio >= target[s.algorithm] && s.sign.p99 <= 60)) && readRatio >= 0.4 && batchRatio >= 2 && clean ? 0 : 1;
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  await db.drop();
}
