// `modelsign serve`: runs the service until SIGTERM or SIGINT, then drains: readiness fails and
// new requests get 503 at once, in-flight requests complete (at most DRAIN_MS), the services
// stop and the database is closed. Exit status 0.
import { loadConfig } from '../config.ts';
import { buildApp } from '../server/app.ts';
import { startControlSocket } from '../server/control-socket.ts';
import { createLogger } from '../server/logger.ts';
import { parse } from './args.ts';
import { openRuntime } from './runtime.ts';

const USAGE = `Usage: modelsign serve

Runs the HTTP service. Configuration comes from the environment (see README.md):
DATABASE_URL, MODELSIGN_DATA_DIR, MODELSIGN_KEK, MODELSIGN_KEK_FILE, HOST, PORT, LOG_LEVEL.`;

// Orchestrators send SIGKILL 10 s after SIGTERM (Kubernetes' and Docker's defaults are 30 and
// 10): in-flight requests get 8 s, which leaves time to stop the services and close the pool.
const DRAIN_MS = 8_000;

export async function serve(args: string[]): Promise<number> {
  parse(args, {}, USAGE);
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const runtime = await openRuntime(config, logger);
  const app = await buildApp({
    services: runtime.services,
    logger,
    rateLimit: config.rateLimit,
    trustProxy: config.trustProxy,
    requestTimeoutMs: config.requestTimeoutMs,
    processMetrics: true,
  });
  await app.listen({ host: config.host, port: config.port });
  const control = runtime.db.kind === 'pglite' ? await startControlSocket(config.dataDir, runtime.services, (m) => logger.warn(m)) : undefined;
  logger.info(
    { database: runtime.db.kind, keys: runtime.services.keys.list().filter((k) => k.status === 'active').map((k) => ({ purpose: k.purpose, kid: k.kid })) },
    'modelsign is ready',
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  const started = Date.now();
  app.drain();
  await new Promise((resolve) => (control ? control.close(resolve) : resolve(undefined)));
  const deadline = setTimeout(() => {
    logger.warn('requests still running after the drain period; closing their connections');
    app.server.closeAllConnections();
  }, DRAIN_MS);
  await app.close();
  clearTimeout(deadline);
  await runtime.close();
  logger.info({ ms: Date.now() - started }, 'stopped');
  // Everything is closed; a handle some library left open must not keep the process alive.
  setTimeout(() => process.exit(0), 2_000).unref();
  return 0;
}
