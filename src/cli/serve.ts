// `modelsign serve`: runs the service until SIGTERM or SIGINT, then drains in-flight requests
// and closes the database.
import { loadConfig } from '../config.ts';
import { buildApp } from '../server/app.ts';
import { startControlSocket } from '../server/control-socket.ts';
import { createLogger } from '../server/logger.ts';
import { parse } from './args.ts';
import { openRuntime } from './runtime.ts';

const USAGE = `Usage: modelsign serve

Runs the HTTP service. Configuration comes from the environment (see README.md):
DATABASE_URL, MODELSIGN_DATA_DIR, MODELSIGN_KEK, MODELSIGN_KEK_FILE, HOST, PORT, LOG_LEVEL.`;

export async function serve(args: string[]): Promise<number> {
  parse(args, {}, USAGE);
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const runtime = await openRuntime(config, logger);
  const app = await buildApp({ services: runtime.services, logger });
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
  await new Promise((resolve) => (control ? control.close(resolve) : resolve(undefined)));
  await app.close();
  await runtime.close();
  return 0;
}
