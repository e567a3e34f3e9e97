// Prometheus metrics, one registry per app (tests build many apps in one process). Values that
// live in the database or in services (keys, log size, pool) are read when scraped, so they are
// right whichever instance changed them; request-path counters are incremented by the routes.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { KEY_PURPOSES, KEY_STATUSES, type KeyRecord } from '../../core/keys/key.ts';
import { algorithmOf } from '../../core/crypto/registry.ts';
import { KEY_SLOTS } from '../../core/keys/lifecycle.ts';
import type { Verdict } from '../../core/verdict.ts';

export interface Metrics {
  registry: Registry;
  signatureIssued(): void;
  /** One ID-token exchange: `minted`, or the code it was refused with. */
  oidcExchange(result: string): void;
  verified(verdict: Verdict): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

export interface MetricsOptions {
  /** Also export Node's process metrics (CPU, memory, event-loop lag, GC): on for a served process. */
  processMetrics?: boolean;
}


function keyMetrics(app: FastifyInstance, registry: Registry) {
  const count = (filter: (k: KeyRecord) => boolean) => {
    const byPurpose = new Map<string, number>();
    for (const k of app.services.keys.list()) if (filter(k)) byPurpose.set(k.purpose, (byPurpose.get(k.purpose) ?? 0) + 1);
    return byPurpose;
  };
  new Gauge({
    name: 'modelsign_keys',
    help: 'Keys by purpose, algorithm and status.',
    labelNames: ['purpose', 'algorithm', 'status'],
    registers: [registry],
    collect() {
      for (const slot of KEY_SLOTS) for (const status of KEY_STATUSES) this.set({ purpose: slot.purpose, algorithm: algorithmOf(slot.algorithm).name, status }, 0);
      for (const k of app.services.keys.list()) this.inc({ purpose: k.purpose, algorithm: algorithmOf(k.algorithm).name, status: k.status });
    },
  });
  // Keys are never deleted, so counting them gives counters that agree across instances and
  // survive restarts: every key activated after the first of its slot (purpose and algorithm) is
  // one rotation.
  const cumulative = (name: string, help: string, measure: () => Map<string, number>) => {
    const seen = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames: ['purpose'],
      registers: [registry],
      collect() {
        const now = measure();
        for (const purpose of KEY_PURPOSES) {
          const value = now.get(purpose) ?? 0;
          const delta = value - (seen.get(purpose) ?? 0);
          this.inc({ purpose }, delta > 0 ? delta : 0);
          seen.set(purpose, Math.max(value, seen.get(purpose) ?? 0));
        }
      },
    });
  };
  cumulative('modelsign_key_rotations_total', 'Key rotations (scheduled, requested, or by revocation of an active key).', () => {
    const keys = app.services.keys.list();
    const rotations = new Map<string, number>();
    for (const slot of KEY_SLOTS) {
      const activated = keys.filter((k) => k.purpose === slot.purpose && k.algorithm === slot.algorithm && k.activatedAt !== null).length;
      rotations.set(slot.purpose, (rotations.get(slot.purpose) ?? 0) + Math.max(0, activated - 1));
    }
    return rotations;
  });
  cumulative('modelsign_key_revocations_total', 'Keys revoked.', () => count((k) => k.status === 'revoked'));
}

export default fp<MetricsOptions>(
  async function metricsPlugin(app, options) {
    const registry = new Registry();
    if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'modelsign_' });

    const duration = new Histogram({
      name: 'modelsign_http_request_duration_seconds',
      help: 'HTTP request durations by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    const signatures = new Counter({ name: 'modelsign_signatures_issued_total', help: 'Release signatures issued (new ones; repeats of a stored release are not counted).', registers: [registry] });
    const verifications = new Counter({
      name: 'modelsign_verifications_total',
      help: 'Online verifications by verdict (valid or invalid) and first reason.',
      labelNames: ['verdict', 'reason'],
      registers: [registry],
    });
    const exchanges = new Counter({
      name: 'modelsign_oidc_exchanges_total',
      help: 'ID-token exchanges (trusted publishing) by result: minted, or the refusal code.',
      labelNames: ['result'],
      registers: [registry],
    });
    keyMetrics(app, registry);
    new Gauge({
      name: 'modelsign_log_size',
      help: 'Entries in the newest signed checkpoint this instance knows.',
      registers: [registry],
      collect() {
        this.set(app.services.log.latestKnown()?.size ?? 0);
      },
    });
    new Gauge({
      name: 'modelsign_log_leaf_mismatches',
      help: 'Log entries whose leaf, rebuilt by the leaf data backfill, does not hash to the leaf hash in the tree (an alarm: each is named in an error line; their entry bundles stay unavailable).',
      registers: [registry],
      collect() {
        this.set(app.services.leaves.mismatches.size);
      },
    });
    if (app.services.witnesses) {
      const witnesses = app.services.witnesses;
      new Gauge({
        name: 'modelsign_witness_alarms',
        help: 'Witness alarms this instance raised (a fork, a refused proof, a witness ahead of our tree, a bad cosignature, an unknown log), by kind; each is named in an error line and in /readyz.',
        labelNames: ['kind'],
        registers: [registry],
        collect() {
          this.reset();
          for (const a of witnesses.client.alarms.values()) this.inc({ kind: a.kind });
        },
      });
      new Gauge({
        name: 'modelsign_witness_lag_seconds',
        help: 'Seconds since each witness\'s newest cosignature of this log (NaN before its first).',
        labelNames: ['witness'],
        registers: [registry],
        async collect() {
          const now = app.services.clock.now().getTime() / 1000;
          for (const s of await witnesses.client.states()) this.set({ witness: s.name }, s.cosignedAt === null ? Number.NaN : Math.max(0, now - s.cosignedAt));
        },
      });
    }
    new Gauge({
      name: 'modelsign_checkpoint_age_seconds',
      help: 'Seconds since the newest signed checkpoint this instance knows was signed.',
      registers: [registry],
      collect() {
        const latest = app.services.log.latestKnown();
        // The checkpoint's time was signed on the service's clock: its age is read on the same one.
        this.set(latest?.timestamp != null ? Math.max(0, app.services.clock.now().getTime() / 1000 - latest.timestamp) : Number.NaN);
      },
    });
    new Gauge({
      name: 'modelsign_db_pool_connections',
      help: 'Database pool connections: total, idle, and callers waiting for one.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const state = app.services.db.poolState();
        this.set({ state: 'total' }, state.total);
        this.set({ state: 'idle' }, state.idle);
        this.set({ state: 'waiting' }, state.waiting);
      },
    });

    app.decorate('metrics', {
      registry,
      signatureIssued: () => signatures.inc(),
      oidcExchange: (result: string) => exchanges.inc({ result }),
      verified: (verdict: Verdict) => verifications.inc({ verdict: verdict.valid ? 'valid' : 'invalid', reason: verdict.reasons[0]?.code ?? 'none' }),
    } satisfies Metrics);
    // One child per (method, route, status), found by a string key: prom-client would otherwise
    // validate and hash the label object on every request.
    const series = new Map<string, ReturnType<typeof duration.labels>>();
    app.addHook('onResponse', (request, reply, done) => {
      // The route pattern, never the raw URL: label values must stay few.
      const route = request.routeOptions.url ?? 'unmatched';
      const key = `${request.method} ${reply.statusCode} ${route}`;
      let child = series.get(key);
      if (!child) series.set(key, (child = duration.labels({ method: request.method, route, status: String(reply.statusCode) })));
      child.observe(reply.elapsedTime / 1000);
      done();
    });

    app.get('/metrics', { schema: app.openapi.routeSchema('getMetrics'), config: { rateLimit: false } }, async (_request, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    );
  },
  { name: 'modelsign-metrics', dependencies: ['modelsign-services'] },
);
