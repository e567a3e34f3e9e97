// Wires the services of one instance together over one database.
import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Kek } from './key-wrap.ts';
import { KeyService } from './keys.ts';
import { PublisherService } from './publishers.ts';
import { SignatureService } from './signatures.ts';
import { StateWatcher } from './state-watcher.ts';
import { TlogService } from './tlog.ts';
import { TokenService } from './tokens.ts';
import { VerificationService } from './verification.ts';

export interface Services {
  db: Database;
  clock: Clock;
  keys: KeyService;
  publishers: PublisherService;
  tokens: TokenService;
  signatures: SignatureService;
  tlog: TlogService;
  verification: VerificationService;
  watcher: StateWatcher;
  /** Loads keys (creating them on first start) and starts following other instances. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  db: Database;
  kek: Kek;
  logger: Logger;
  clock?: Clock;
  statePollMs?: number;
  /** The log's origin line (and key name) in checkpoints. */
  logOrigin?: string;
  tlogWaitMs?: number;
  checkpointIntervalMs?: number;
}

export function createServices(options: ServiceOptions): Services {
  const { db, kek, logger } = options;
  const clock = options.clock ?? systemClock;
  const prisma = db.prisma;
  const keys = new KeyService(prisma, kek, clock);
  const publishers = new PublisherService(prisma, clock);
  const tokens = new TokenService(prisma, keys, publishers, clock);
  const watcher = new StateWatcher(
    prisma,
    options.statePollMs ?? 250,
    async () => {
      tokens.invalidate();
      await keys.reload();
    },
    (err) => logger.warn({ err }, 'could not poll for state changes'),
  );
  const tlog = new TlogService(db, keys, clock, {
    origin: options.logOrigin ?? 'modelsign.local/log',
    ...(options.checkpointIntervalMs !== undefined ? { checkpointIntervalMs: options.checkpointIntervalMs } : {}),
    onError: (err) => logger.warn({ err }, 'could not sign a checkpoint'),
  });
  const signatures = new SignatureService(db, keys, tlog, clock, { tlogWaitMs: options.tlogWaitMs ?? 2000 });
  return {
    db,
    clock,
    keys,
    publishers,
    tokens,
    signatures,
    tlog,
    verification: new VerificationService(keys, signatures),
    watcher,
    async start() {
      await keys.start();
      const sequenced = await signatures.sequenceUnlogged();
      if (sequenced > 0) logger.info({ sequenced }, 'added signatures stored before the transparency log to the log');
      await tlog.start();
      await watcher.start();
    },
    async stop() {
      watcher.stop();
      tlog.stop();
    },
  };
}
