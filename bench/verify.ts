// `npm run bench:verify`: POST /v1/verify of a complete bundle (signature, log entry, inclusion
// proof, checkpoint), Ed25519 and ECDSA P-256, on a real modelsign process on PostgreSQL, each
// against a baseline measured in the same run: a bare Fastify route that parses the same bundle
// and checks its DSSE signature once with node:crypto (bench/baseline-server.ts). Targets: ratio
// >= 0.5 and p99 <= 60 ms at 50 connections for each algorithm; every verdict valid.
//
// Options (environment): BENCH_SECONDS (default 10), BENCH_CONNECTIONS (50), BENCH_LOG_LEVEL
// (warn), BENCH_NODE_ARGS (node options for the service, such as --cpu-prof), TEST_DATABASE_URL.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createPostgresDatabase } from '../test/support/db.ts';
import { benchPublisher, caller, CONNECTIONS, measure, pass, SECONDS, serviceEnv, start } from './support.ts';

const BIN = fileURLToPath(new URL('../bin/modelsign.js', import.meta.url));
const BASELINE = fileURLToPath(new URL('./baseline-server.ts', import.meta.url));
const digest = (n: number) => n.toString(16).padStart(64, '0');

const db = await createPostgresDatabase();
const children: ChildProcess[] = [];
try {
  const env = serviceEnv(db.url);
  // BENCH_NODE_ARGS: node options for the service only, e.g. `--cpu-prof --cpu-prof-dir=DIR`.
  const service = await start([...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), BIN, 'serve'], env);
  children.push(service.child);
  const call = caller(service.base);
  const publisher = await benchPublisher(BIN, env, call);

  const bundles: Record<string, object> = {};
  for (const [algorithm, namespace] of [['ed25519', 'acme'], ['ecdsa-p256', 'acme-ec']] as const) {
    const files = [
      { path: 'model.safetensors', sha256: digest(1), size: 4_000_000_000 },
      { path: 'config.json', sha256: digest(2), size: 1_024 },
      { path: 'tokenizer/tokenizer.json', sha256: digest(3), size: 2_000_000 },
    ];
    const signed = await call('POST', '/v1/signatures', { model: `${namespace}/bench`, version: '1.0', files }, publisher);
    let record = signed;
    for (let i = 0; i < 100 && record.bundle.verificationMaterial.tlogEntries.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      record = await call('GET', `/v1/signatures/${signed.id}`, undefined);
    }
    bundles[algorithm] = record.bundle;
    const verdict = await call('POST', '/v1/verify', { bundle: record.bundle, files: files.map(({ path, sha256 }) => ({ path, sha256 })) });
    if (!verdict.valid) throw new Error(`the ${algorithm} bundle does not verify: ${JSON.stringify(verdict.reasons)}`);
  }
  const keys = (await call('GET', '/v1/keys', undefined)).keys as { kid: string }[];
  const pems: Record<string, string> = {};
  for (const k of keys) pems[k.kid] = (await call('GET', `/v1/keys/${k.kid}`, undefined)).pem;
  const baseline = await start(['--import', 'tsx', BASELINE], { DATABASE_URL: db.url, VERIFY_KEYS: JSON.stringify(pems) });
  children.push(baseline.child);

  console.log(`\n${CONNECTIONS} connections, ${SECONDS} s per measurement, PostgreSQL, LOG_LEVEL=${env.LOG_LEVEL}\n`);
  const results = [];
  for (const algorithm of ['ed25519', 'ecdsa-p256'] as const) {
    const body = JSON.stringify({ bundle: bundles[algorithm] });
    const base = await measure(`baseline: Fastify + parse + node:crypto (${algorithm})`, `${baseline.base}/verify`, { method: 'POST', body });
    const ours = await measure(`modelsign: POST /v1/verify (${algorithm})`, `${service.base}/v1/verify`, { method: 'POST', body });
    results.push({ algorithm, base, ours, ratio: ours.rps / base.rps });
  }
  console.log('');
  for (const r of results) {
    console.log(`verify ratio (${r.algorithm.padEnd(10)}) ${r.ratio.toFixed(2)} (target >= 0.5: ${pass(r.ratio >= 0.5)}), p99 ${r.ours.p99} ms (target <= 60: ${pass(r.ours.p99 <= 60)})`);
  }
  const clean = results.every((r) => r.ours.errors + r.ours.non2xx === 0 && r.base.errors + r.base.non2xx === 0);
  console.log(`errors: ${clean ? 'none' : 'SOME REQUESTS FAILED'}`);
  process.exitCode = results.every((r) => r.ratio >= 0.5 && r.ours.p99 <= 60) && clean ? 0 : 1;
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  await db.drop();
}
