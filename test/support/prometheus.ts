// Reads /metrics with the reference Prometheus text parser (prometheus_client's, Debian's
// python3-prometheus-client, which CI installs), not with prom-client's own code, so a malformed
// exposition fails the tests that use it. (The npm parsers tried drop the labels of histograms.)
import { spawnSync } from 'node:child_process';
import type { FastifyInstance } from 'fastify';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  help: string;
  type: string;
  samples: Sample[];
}

const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "help": f.documentation, "type": f.type,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value if s.value == s.value else None} for s in f.samples]})
print(json.dumps(out))
`;

/** A Python with prometheus_client, or undefined (tests then skip, unless MODELSIGN_TEST_REQUIRE_PYTHON=1). */
export function prometheusParser(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(candidate, ['-c', 'import prometheus_client.parser'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  if (process.env.MODELSIGN_TEST_REQUIRE_PYTHON === '1') throw new Error('python3 with prometheus_client is required (apt-get install python3-prometheus-client)');
  return undefined;
}

export function parseMetrics(text: string, python = prometheusParser()): Family[] {
  if (!python) throw new Error('no Prometheus parser available');
  const run = spawnSync(python, ['-c', PARSE], { input: text, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the Prometheus parser refused the exposition:\n${run.stderr}`);
  return JSON.parse(run.stdout) as Family[];
}

export async function scrape(app: FastifyInstance): Promise<Family[]> {
  const res = await app.inject({ url: '/metrics' });
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
  return parseMetrics(res.body);
}

/** One sample's value (for a histogram, its _count), 0 when the series does not exist yet. */
export function sampleValue(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name.replace(/_total$/, '') || f.name === name);
  if (!family) throw new Error(`no metric ${name}`);
  const wanted = family.type === 'histogram' ? `${family.name}_count` : family.type === 'counter' ? `${family.name}_total` : family.name;
  const sample = family.samples.find((s) => s.name === wanted && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return sample ? Number(sample.value) : 0;
}
