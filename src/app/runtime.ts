// Opening one instance's world: configuration, database (migrated), key backend and services,
// started. Shared by the service (instance.ts) and the admin commands, which run where the
// database is reachable as one short-lived instance.
import { databaseFailure } from '../db/errors.ts';
import { errorSummary } from '../services/database-status.ts';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import type { Clock } from '../services/support/clock.ts';
import type { Services } from '../services/index.ts';
import type { KeyBackend } from '../services/key-backends/key-backend.ts';
import { createServices } from './create-services.ts';
import { openKeyBackend, type BackendOptions } from './key-backend.ts';

export interface Runtime {
  db: Database;
  services: Services;
  /** Stops the services (and their background work), then closes the database. */
  close(): Promise<void>;
}

export async function openRuntime(config: Config, logger: Logger, clock?: Clock, options: BackendOptions = {}): Promise<Runtime> {
  // The key backend first: a wrong PIN or a missing token stops the start before the database is touched.
  const backend: KeyBackend = await openKeyBackend(config, logger, options);
  const db = await openDatabase(
    config.databaseUrl === undefined
      ? { dataDir: config.dataDir }
      : {
          url: config.databaseUrl,
          poolSize: config.dbPoolSize,
          statementTimeoutMs: config.dbStatementTimeoutMs,
          acquireTimeoutMs: config.dbAcquireTimeoutMs,
          // An idle session the server dropped: part of an outage, which DatabaseStatus reports once.
          onError: (err) => (services ? services.database.failed(databaseFailure(err) ?? 'unavailable', err) : logger.warn({ err: errorSummary(err) }, 'database connection error')),
        },
  );
  let services: Services | undefined;
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'applied database migrations');
    services = createServices(config, { db, backend, logger, clock });
    await services.start();
    const started = services;
    return {
      db,
      services: started,
      async close() {
        await started.stop();
        await db.close();
      },
    };
  } catch (err) {
    await services?.stop().catch(() => undefined);
    await backend.close?.().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
}
