// Wires the services of one instance together over one database.
import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Kek } from './key-wrap.ts';
import { KeyService } from './keys.ts';
import { PublisherService } from './publishers.ts';
import { SignatureService } from './signatures.ts';
import { StateWatcher } from './state-watcher.ts';
import { TokenService } from './tokens.ts';
import { VerificationService } from './verification.ts';

export interface Services {
  db: Database;
  clock: Clock;
  keys: KeyService;
  publishers: PublisherService;
  tokens: TokenService;
  signatures: SignatureService;
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
  return {
    db,
    clock,
    keys,
    publishers,
    tokens,
    signatures: new SignatureService(db, keys, clock),
    verification: new VerificationService(prisma, keys),
    watcher,
    async start() {
      await keys.start();
      await watcher.start();
    },
    async stop() {
      watcher.stop();
    },
  };
}
