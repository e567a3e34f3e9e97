// The services of one instance, as the server and the admin commands see them. They are built,
// wired and started by the composition root (src/app/create-services.ts).
import type { Database } from '../db/client.ts';
import type { AuditService } from './audit.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { Clock } from './support/clock.ts';
import type { DatabaseStatus } from './database-status.ts';
import type { HealthService } from './health.ts';
import type { KeyService } from './keys.ts';
import type { TileReader } from './tile-reader.ts';
import type { LeafBackfill } from './leaf-backfill.ts';
import type { LogReader } from './log-reader.ts';
import type { PublisherService } from './publishers.ts';
import type { LogBackfill } from './log-backfill.ts';
import type { SignatureReader } from './signature-reader.ts';
import type { SigningService } from './signing.ts';
import type { StateWatcher } from './state-watcher.ts';
import type { TokenService } from './tokens.ts';
import type { OidcExchange } from './oidc-exchange.ts';
import type { TrustedPublisherAdmin } from './trusted-publisher-admin.ts';
import type { VerificationService } from './verification.ts';
import type { WitnessClient } from './witness-client.ts';
import type { MirrorJob } from './mirror-job.ts';
import type { WitnessedLog } from './witnessed-log.ts';
import type { WitnessPolicy } from '../core/tlog/witness-policy.ts';

export interface Services {
  db: Database;
  clock: Clock;
  keys: KeyService;
  publishers: PublisherService;
  tokens: TokenService;
  /** OIDC issuers and trusted-publisher rules (admins). */
  trustedPublishers: TrustedPublisherAdmin;
  /** ID tokens exchanged for publisher tokens (CI jobs). */
  oidc: OidcExchange;
  /** Signs releases (one, or a batch). */
  signing: SigningService;
  /** Reads signatures back, each with its log entry. */
  signatures: SignatureReader;
  /** Appends signatures stored without a log index (run at start). */
  backfill: LogBackfill;
  log: LogReader;
  tiles: TileReader;
  leaves: LeafBackfill;
  checkpointer: Checkpointer;
  audit: AuditService;
  verification: VerificationService;
  health: HealthService;
  /** What this instance knows of its database (serving, read-only, unavailable); one log line per change. */
  database: DatabaseStatus;
  watcher: StateWatcher;
  /** With MODELSIGN_WITNESS_POLICY: the client submitting checkpoints, and what the log serves with their cosignatures. */
  witnesses: { config: { text: string; policy: WitnessPolicy }; client: WitnessClient; log: WitnessedLog } | undefined;
  /** MODELSIGN_MIRROR_DIR: the log mirrored into a folder every interval (also run by hand in tests). */
  mirror: MirrorJob | undefined;
  /** Loads keys (creating them on first start), catches the log up, and starts the background work. */
  start(): Promise<void>;
  /** Stops the background work and waits for it; the database stays open (its owner closes it). */
  stop(): Promise<void>;
}
