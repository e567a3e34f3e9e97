// `modelsign serve`: runs the service until SIGTERM or SIGINT, then drains: readiness fails and
// new requests get 503 at once, in-flight requests complete (at most DRAIN_MS), the services
// stop and the database is closed. Exit status 0.
import { createLogger } from '../app/logger.ts';
import { startInstance } from '../app/instance.ts';
import { loadConfig } from '../config.ts';
import { adminFailure } from './admin-context.ts';
import { parse } from './args.ts';
import { EXIT } from './exit-codes.ts';

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
  const instance = await startInstance(config, logger, { processMetrics: true }).catch((err: unknown) => {
    throw adminFailure(err) ?? err;
  });
  const keys = instance.runtime.services.keys.list().filter((k) => k.status === 'active');
  logger.info({ database: instance.runtime.db.kind, keys: keys.map((k) => ({ purpose: k.purpose, kid: k.kid })) }, 'modelsign is ready');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  const started = Date.now();
  await instance.stop(DRAIN_MS);
  logger.info({ ms: Date.now() - started }, 'stopped');
  // Everything is closed; a handle some library left open must not keep the process alive.
  setTimeout(() => process.exit(EXIT.ok), 2_000).unref();
  return EXIT.ok;
}
