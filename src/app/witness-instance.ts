// One running `modelsign witness`: its database (migrated; the embedded one by default), its key
// service holding only the witness key (KEK-wrapped or in a PKCS#11 token), the witness service
// (started: the logs' keys pinned and the start check run, which may refuse the start) and its
// HTTP server. Logs whose checkpoint could not be read at start are read again every 10 s until
// they answer. Started and stopped as a unit, like the service's instance.ts.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config, WitnessModeConfig } from '../config.ts';
import { WITNESS_SLOT } from '../core/keys/lifecycle.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { buildWitnessApp } from '../server/witness-app.ts';
import { AuditService } from '../services/audit.ts';
import type { KeyBackend } from '../services/key-backends/key-backend.ts';
import { KeyService } from '../services/keys.ts';
import { StateChanges } from '../services/state-changes.ts';
import { systemClock, type Clock } from '../services/support/clock.ts';
import { nodeLogHasher } from '../services/support/node-hasher.ts';
import { periodic } from '../services/support/periodic.ts';
import { changeWitnessedLogKey, WitnessService } from '../services/witness-server.ts';
import { formatVkey, NOTE_TYPE } from '../core/tlog/vkey.ts';
import { openKeyBackend } from './key-backend.ts';

export interface WitnessParts {
  db: Database;
  keys: KeyService;
  witness: WitnessService;
  audit: AuditService;
  app: FastifyInstance;
  /** Stops the retries and the HTTP server; the caller closes the database and backend. */
  stop(): Promise<void>;
}

/**
 * The witness on an open, migrated database with a key backend: keys, witness service (started),
 * HTTP app (not listening). For `startWitness` and for tests.
 */
export async function assembleWitness(deps: {
  db: Database;
  backend: KeyBackend;
  logger: Logger;
  clock?: Clock;
  mode: WitnessModeConfig;
  trustProxy?: Config['trustProxy'];
  fetchImpl?: typeof fetch;
  retryMs?: number;
}): Promise<WitnessParts> {
  const clock = deps.clock ?? systemClock;
  const changes = new StateChanges();
  changes.subscribe(() => undefined);
  const keys = new KeyService(deps.db, deps.backend, clock, changes, {
    schedule: { every: {}, prepublishMs: 0 },
    refreshMinIntervalMs: 100,
    slots: [WITNESS_SLOT],
    warn: (fields, message) => deps.logger.warn(fields, message),
  });
  await keys.start();
  // The key made at a first start (and a set-log-key since) join the audit trail's hash chain now.
  const audit = new AuditService(deps.db);
  await audit.seal();
  const witness = new WitnessService(deps.db, keys, clock, nodeLogHasher, { name: deps.mode.name, logs: deps.mode.logs, peers: deps.mode.peers }, deps.fetchImpl);
  await witness.start();
  const retry = periodic(
    'witness start check',
    deps.retryMs ?? 10_000,
    async () => {
      if (witness.waiting.length === 0) return;
      for (const problem of await witness.checkAll()) deps.logger.error({ problem }, `witness alarm: ${problem}`);
    },
    (err) => deps.logger.warn({ err }, 'could not read the witnessed logs\' checkpoints'),
  );
  retry.start();
  const app = await buildWitnessApp({ witness, clock, logger: deps.logger, perMinute: deps.mode.perMinute, trustProxy: deps.trustProxy });
  return {
    db: deps.db,
    keys,
    witness,
    audit,
    app,
    async stop() {
      await retry.stop();
      await app.close();
    },
  };
}

/** The database and key backend a witness command runs on, migrated; closed by `close`. */
async function openWitnessStore(config: Config, logger: Logger): Promise<{ db: Database; backend: KeyBackend; close(): Promise<void> }> {
  const backend = await openKeyBackend(config, logger, { slots: [WITNESS_SLOT] });
  let db: Database | undefined;
  try {
    db = await openDatabase(
      config.databaseUrl === undefined
        ? { dataDir: config.dataDir }
        : { url: config.databaseUrl, poolSize: config.dbPoolSize, statementTimeoutMs: config.dbStatementTimeoutMs, acquireTimeoutMs: config.dbAcquireTimeoutMs },
    );
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'applied database migrations');
  } catch (err) {
    await db?.close().catch(() => undefined);
    await backend.close?.().catch(() => undefined);
    throw err;
  }
  const opened = db;
  return {
    db: opened,
    backend,
    async close() {
      await backend.close?.();
      await opened.close();
    },
  };
}

/** The witness's vkey (its key made on first use), without starting it. */
export async function witnessVkey(config: Config, logger: Logger): Promise<string> {
  const mode = config.witnessMode!;
  const store = await openWitnessStore(config, logger);
  try {
    const changes = new StateChanges();
    changes.subscribe(() => undefined);
    const keys = new KeyService(store.db, store.backend, systemClock, changes, { schedule: { every: {}, prepublishMs: 0 }, refreshMinIntervalMs: 100, slots: [WITNESS_SLOT] });
    await keys.start();
    return formatVkey(mode.name, NOTE_TYPE.cosignatureV1, keys.signer('witness').publicKey);
  } finally {
    await store.close();
  }
}

/** `modelsign witness set-log-key`: the previous key, or undefined when the log is not witnessed. */
export async function setWitnessedLogKey(config: Config, logger: Logger, origin: string, vkey: string, actor: string): Promise<string | undefined> {
  const store = await openWitnessStore(config, logger);
  try {
    const previous = await changeWitnessedLogKey(store.db, origin, vkey, actor, new Date());
    await new AuditService(store.db).seal();
    return previous;
  } finally {
    await store.close();
  }
}

export interface WitnessInstance extends WitnessParts {
  url: string;
  /** Stops serving, then closes the database and the key backend. */
  close(): Promise<void>;
}

export async function startWitness(config: Config, logger: Logger, options: { clock?: Clock } = {}): Promise<WitnessInstance> {
  const mode = config.witnessMode;
  if (!mode) throw new Error('startWitness needs MODELSIGN_WITNESS_NAME and MODELSIGN_WITNESS_LOGS');
  const store = await openWitnessStore(config, logger);
  let parts: WitnessParts | undefined;
  try {
    parts = await assembleWitness({ db: store.db, backend: store.backend, logger, clock: options.clock, mode, trustProxy: config.trustProxy });
    await parts.app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await parts?.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
  const started = parts;
  const address = started.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    ...started,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    async close() {
      await started.stop();
      await store.close();
    },
  };
}
