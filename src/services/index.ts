// Wires the services of one instance together over one database.
import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Kek } from './key-wrap.ts';
import { AuditService } from './audit.ts';
import { KeyService, type RotationSchedule } from './keys.ts';
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
  audit: AuditService;
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
  rotation?: RotationSchedule;
  /** How often scheduled rotation is checked (it acts only when something is due). */
  scheduleIntervalMs?: number;
  auditSealMs?: number;
}

export function createServices(options: ServiceOptions): Services {
  const { db, kek, logger } = options;
  const clock = options.clock ?? systemClock;
  const prisma = db.prisma;
  const keys = new KeyService(prisma, kek, clock, options.rotation);
  const audit = new AuditService(db, options.auditSealMs ?? 500, (err) => logger.warn({ err }, 'could not seal audit events'));
  let scheduleTimer: NodeJS.Timeout | undefined;
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
  keys.onReload = () => {
    signatures.forget();
    tlog.keysChanged();
  };
  return {
    db,
    clock,
    keys,
    publishers,
    tokens,
    signatures,
    tlog,
    audit,
    verification: new VerificationService(keys, signatures),
    watcher,
    async start() {
      await keys.start();
      const sequenced = await signatures.sequenceUnlogged();
      if (sequenced > 0) logger.info({ sequenced }, 'added signatures stored before the transparency log to the log');
      await tlog.start();
      await watcher.start();
      audit.start();
      if (Object.keys(options.rotation?.every ?? {}).length > 0) {
        await keys.runSchedule();
        scheduleTimer = setInterval(() => void keys.runSchedule().catch((err) => logger.warn({ err }, 'scheduled rotation failed')), options.scheduleIntervalMs ?? 1000);
        scheduleTimer.unref();
      }
    },
    async stop() {
      clearInterval(scheduleTimer);
      watcher.stop();
      tlog.stop();
      audit.stop();
    },
  };
}
