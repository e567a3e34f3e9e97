// Opening one instance's world: configuration, database (migrated), KEK and services. Shared by
// `serve` and the admin commands, which run where the database is reachable.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import type { Clock } from '../services/clock.ts';
import { createServices, type Services } from '../services/index.ts';
import { loadKek } from '../services/key-wrap.ts';

export interface Runtime {
  db: Database;
  services: Services;
  close(): Promise<void>;
}

export async function openRuntime(config: Config, logger: Logger, clock?: Clock): Promise<Runtime> {
  const embedded = config.databaseUrl === undefined;
  const kek = loadKek({ kek: config.kek, kekFile: config.kekFile, dataDir: embedded ? config.dataDir : undefined }, (m) => logger.warn(m));
  const db = await openDatabase({
    url: config.databaseUrl,
    dataDir: embedded ? config.dataDir : undefined,
    poolSize: config.dbPoolSize,
    onError: (err) => logger.warn({ err }, 'database connection error'),
  });
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'applied database migrations');
    const services = createServices({ db, kek, logger, statePollMs: config.statePollMs, logOrigin: config.logOrigin, tlogWaitMs: config.tlogWaitMs, rotation: config.rotation, ...(clock ? { clock } : {}) });
    await services.start();
    return {
      db,
      services,
      async close() {
        await services.stop();
        await db.close();
      },
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
