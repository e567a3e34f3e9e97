// Reads /metrics with an independent Prometheus text-format parser (not prom-client's own output
// code), so a malformed exposition fails the tests that use it.
import type { FastifyInstance } from 'fastify';
// @ts-expect-error: the parser ships no types; its output shape is described below.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

interface Sample {
  labels?: Record<string, string>;
  value?: string;
  count?: string;
  sum?: string;
  buckets?: Record<string, string>;
}
export interface Family {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Sample[];
}

export function parseMetrics(text: string): Family[] {
  return (parsePrometheusTextFormat as (t: string) => Family[])(text);
}

export async function scrape(app: FastifyInstance): Promise<Family[]> {
  const res = await app.inject({ url: '/metrics' });
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
  return parseMetrics(res.body);
}

/** The value of one sample (a histogram's count), 0 when the series does not exist yet. */
export function sampleValue(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no metric ${name}`);
  const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) return 0;
  return Number(sample.value ?? sample.count);
}
