// One running modelsign service: its runtime (database, services, background work), its HTTP
// server, and on the embedded database the control socket the admin commands use. Started and
// stopped as a unit, so that a stopped instance leaves no timer, socket or connection behind
// (test/app/instance.test.ts starts and stops one twice in one process).
import type { Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { buildApp } from '../server/app.ts';
import type { Clock } from '../services/support/clock.ts';
import { later } from '../services/support/periodic.ts';
import { startControlSocket } from './control-socket.ts';
import { openRuntime, type Runtime } from './runtime.ts';

export interface Instance {
  runtime: Runtime;
  app: FastifyInstance;
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  url: string;
  /**
   * Drains and stops: new requests get 503 at once, in-flight ones get `drainMs` to complete
   * (then their connections are closed), the background work stops and the database closes.
   */
  stop(drainMs: number): Promise<void>;
}

export async function startInstance(config: Config, logger: Logger, options: { processMetrics?: boolean; clock?: Clock } = {}): Promise<Instance> {
  const runtime = await openRuntime(config, logger, options.clock);
  let app: FastifyInstance | undefined;
  let control: Server | undefined;
  try {
    app = await buildApp({
      services: runtime.services,
      logger,
      // REDIS_URL makes the limits shared by every instance (without it each instance counts alone).
      rateLimit: { ...config.rateLimit, redisUrl: config.redisUrl },
      authRefusalsPerMinute: config.authRefusalsPerMinute,
      oidcExchangesPerMinute: config.oidc.perAddressPerMinute,
      trustProxy: config.trustProxy,
      requestTimeoutMs: config.requestTimeoutMs,
      publicUrl: config.publicUrl,
      processMetrics: options.processMetrics ?? false,
      web: config.web,
    });
    await app.listen({ host: config.host, port: config.port });
    control = runtime.db.kind === 'pglite' ? await startControlSocket(config.dataDir, runtime.services, (m) => logger.warn(m)) : undefined;
  } catch (err) {
    await app?.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const started = app;
  return {
    runtime,
    app: started,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    async stop(drainMs) {
      started.drain();
      await new Promise((resolve) => (control ? control.close(resolve) : resolve(undefined)));
      const deadline = later(drainMs, () => {
        logger.warn('requests still running after the drain period; closing their connections');
        started.server.closeAllConnections();
      });
      await started.close();
      deadline.cancel();
      await runtime.close();
    },
  };
}
