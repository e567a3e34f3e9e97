// The composition root of the services: builds every service of one instance over one database,
// subscribes once to what changed (services/state-changes.ts: a key change empties the caches that
// depend on keys, a publisher or token change drops cached tokens), and lists the background work
// with its period. Nothing
// below src/app constructs a service or starts periodic work on its own (the in-memory rate-limit
// windows, services/support/fixed-window.ts, sweep their expired keys on a timer of their own).
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { AuditService } from '../services/audit.ts';
import { Checkpointer } from '../services/checkpointer.ts';
import { systemClock, type Clock } from '../services/support/clock.ts';
import { HealthService } from '../services/health.ts';
import type { Services } from '../services/index.ts';
import type { KeyBackend } from '../services/key-backends/key-backend.ts';
import { KeyService } from '../services/keys.ts';
import { ModelsignError } from '../core/errors.ts';
import { isHostOrigin } from '../core/tlog/log-id.ts';
import { settleLogOrigin } from '../services/log-origin.ts';
import { TileReader } from '../services/tile-reader.ts';
import { TileHashes } from '../services/tile-hashes.ts';
import { LeafBackfill } from '../services/leaf-backfill.ts';
import { LogReader } from '../services/log-reader.ts';
import { nodeLogHasher } from '../services/support/node-hasher.ts';
import { DatabaseStatus } from '../services/database-status.ts';
import { databaseFailure } from '../db/errors.ts';
import { nodeSignatureVerifier } from '../services/node-verifier.ts';
import { periodic, type Periodic } from '../services/support/periodic.ts';
import { PublisherService } from '../services/publishers.ts';
import { SignatureWriter } from '../services/signature-writer.ts';
import { LogBackfill } from '../services/log-backfill.ts';
import { SignatureReader } from '../services/signature-reader.ts';
import { SigningService } from '../services/signing.ts';
import { StateWatcher } from '../services/state-watcher.ts';
import { TokenService } from '../services/tokens.ts';
import { OidcExchange } from '../services/oidc-exchange.ts';
import { StateChanges } from '../services/state-changes.ts';
import { TrustedPublisherAdmin } from '../services/trusted-publisher-admin.ts';
import { VerificationService } from '../services/verification.ts';
import { WitnessClient } from '../services/witness-client.ts';
import { WitnessedLog } from '../services/witnessed-log.ts';
import { witnessOriginProblem } from '../core/tlog/add-checkpoint.ts';
import { keyIdHex } from '../core/tlog/vkey.ts';
import { LogOriginError } from '../services/log-origin.ts';
import { equalBytes } from '../core/bytes.ts';
import { AppendGuard, checkMirror, checkMirrorFolder, type PublishedAhead } from '../services/append-guard.ts';
import { MirrorJob } from '../services/mirror-job.ts';
import { MirrorError } from '../services/tiles-mirror.ts';
import { readTree } from '../db/log-store.ts';

/** What the services take from the configuration. */
export type ServicesConfig = Pick<
  Config,
  'logOrigin' | 'publicUrl' | 'witnesses' | 'mirrorUrl' | 'mirror' | 'witnessIntervalMs' | 'witnessRequestTimeoutMs' | 'statePollMs' | 'tlogWaitMs' | 'rotation' | 'checkpointIntervalMs' | 'auditSealMs' | 'scheduleIntervalMs' | 'nodeCacheSize' | 'tileCacheBytes' | 'leafBackfillBatch' | 'keyRefreshMinIntervalMs' | 'tokenKeyDestructionMs' | 'readiness' | 'signingBatch' | 'oidc'
>;

export interface ServiceDeps {
  db: Database;
  backend: KeyBackend;
  logger: Logger;
  clock?: Clock | undefined;
}

export function createServices(config: ServicesConfig, deps: ServiceDeps): Services {
  const { db, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const hasher = nodeLogHasher;
  const database = new DatabaseStatus(logger);
  // A background task failing because of the database is the outage's one warning (DatabaseStatus),
  // not a warning per run; anything else is logged as it happens.
  // A token outage is logged once by the backend when it starts and when it ends.
  const warn = (what: string) => (err: unknown) => {
    const failure = databaseFailure(err);
    if (failure) database.failed(failure, err);
    else if (!(err instanceof ModelsignError && err.code === 'key_backend_unavailable')) logger.warn({ err }, what);
  };

  const changes = new StateChanges();
  const guard = new AppendGuard();
  const keys = new KeyService(db, deps.backend, clock, changes, {
    // Witnesses pin the log key: while they are configured it changes only when compromised.
    logKeyWitnessed: config.witnesses !== undefined,
    schedule: config.rotation,
    refreshMinIntervalMs: config.keyRefreshMinIntervalMs,
    warn: (fields, message) => logger.warn(fields, message),
  });
  const audit = new AuditService(db);
  const publishers = new PublisherService(db, clock, changes);
  const tokens = new TokenService(db, keys, publishers, clock, changes);
  const trustedPublishers = new TrustedPublisherAdmin(db, publishers, clock, changes, { allowInsecure: config.oidc.allowInsecure });
  const oidc = new OidcExchange(db, tokens, clock, {
    audience: config.oidc.audience,
    jwksCooldownMs: config.oidc.jwksCooldownMs,
    perRepositoryPerHour: config.oidc.perRepositoryPerHour,
    warn: (fields, message) => logger.warn(fields, message),
  });
  const tileHashes = new TileHashes(db, config.tileCacheBytes);
  const log = new LogReader(db, keys, hasher, tileHashes, { nodeCacheSize: config.nodeCacheSize });
  const checkpointer = new Checkpointer(db, keys, log, clock, hasher, warn('could not sign a checkpoint'));
  const writer = new SignatureWriter(db, checkpointer, hasher, config.signingBatch);
  const signatures = new SignatureReader(db, keys, log, checkpointer, hasher);
  const signing = new SigningService(db, keys, writer, signatures, clock, hasher, { tlogWaitMs: config.tlogWaitMs }, guard);
  const backfill = new LogBackfill(db, keys, checkpointer, hasher);
  const watcher = new StateWatcher(db, changes, (readOnly) => database.answered(readOnly));
  // The one place that knows which cache depends on what: after a change commits here, this
  // instance stops honouring what changed at once; others follow within a state poll.
  changes.subscribe(async (change) => {
    switch (change.what) {
      case 'keys':
        // A key changed: an entry may now need another checkpoint, and the log key may be new.
        signatures.dropCache();
        checkpointer.keysChanged();
        return;
      case 'publishers':
      case 'tokens':
        tokens.invalidate();
        return;
      case 'trusted-publishing':
        // A removed rule refuses the tokens minted under it; issuers are read again.
        tokens.invalidate();
        oidc.invalidate();
        return;
      case 'elsewhere':
        tokens.invalidate();
        oidc.invalidate();
        // Publishes `keys` when it has reloaded.
        await keys.reload();
        return;
    }
  });
  const scheduled = Object.keys(config.rotation.every).length > 0;

  const witnessConfig = config.witnesses;
  const witnesses = witnessConfig && {
    config: witnessConfig,
    client: new WitnessClient(db, log, clock, witnessConfig.targets, {
      requestTimeoutMs: config.witnessRequestTimeoutMs,
      logKeys: () => keys.list().filter((k) => k.purpose === 'log' && k.status !== 'pending'),
      guard,
      alarm: (event) => logger.error(event, `witness alarm: ${event.detail}`),
    }),
    log: new WitnessedLog(db, log, witnessConfig.policy, new Map(witnessConfig.targets.map((t) => [t.name, keyIdHex(t.key.keyId)]))),
  };
  if (witnesses) log.serveWith(() => witnesses.log.served());

  const leaves = new LeafBackfill(db, keys, hasher, {
    progress: (stored) => logger.info({ stored }, 'stored the leaf data of log entries made before 0.2 (entry bundles)'),
    mismatch: (index) =>
      logger.error({ index }, 'log alarm: the leaf rebuilt for this entry does not hash to the leaf hash in the tree; its entry bundle stays unavailable (modelsign_log_leaf_mismatches)'),
  });
  let leavesDone: Promise<unknown> = Promise.resolve();

  const tiles = new TileReader(db, log, tileHashes, { cacheBytes: config.tileCacheBytes });
  const mirror = config.mirror && new MirrorJob(db, log, tiles, keys, guard, config.mirror.dir);
  const mirrorTurn = async () => {
    if (!mirror) return;
    try {
      const r = await mirror.run();
      if (r && r.files > 0) logger.info({ dir: mirror.dir, size: r.size, files: r.files, ms: Math.round(r.ms) }, 'mirrored the log');
    } catch (err) {
      if (err instanceof MirrorError && (err.kind === 'fork' || err.kind === 'rollback' || err.kind === 'tampered')) logger.error({ dir: mirror.dir, kind: err.kind }, `log alarm: the mirror in ${mirror.dir} does not match the log: ${err.message}`);
      else throw err;
    }
  };

  const background: Periodic[] = [
    periodic('checkpoint', config.checkpointIntervalMs, () => checkpointer.checkpointNow(), warn('could not sign a checkpoint')),
    periodic('state poll', config.statePollMs, () => watcher.check(), warn('could not poll for state changes')),
    periodic('audit seal', config.auditSealMs, () => audit.seal(), warn('could not seal audit events')),
    ...(scheduled ? [periodic('scheduled rotation', config.scheduleIntervalMs, () => keys.runSchedule(), warn('scheduled rotation failed'))] : []),
    // Revoked keys whose token was away at revocation, and keys retired over an hour ago.
    ...(deps.backend.destroy ? [periodic('token key destruction', config.tokenKeyDestructionMs, () => keys.destroyRetired(), warn('could not destroy token keys'))] : []),
    ...(config.mirror ? [periodic('log mirror', config.mirror.intervalMs, mirrorTurn, warn(`could not mirror the log into ${config.mirror.dir}`))] : []),
    ...(witnesses ? [periodic('witness submissions', config.witnessIntervalMs, () => witnesses.client.runDue(), warn('could not submit a checkpoint to witnesses'))] : []),
  ];

  return {
    db,
    clock,
    keys,
    publishers,
    tokens,
    trustedPublishers,
    oidc,
    signing,
    signatures,
    backfill,
    log,
    tiles,
    mirror,
    leaves,
    checkpointer,
    audit,
    verification: new VerificationService(keys, signatures, hasher, nodeSignatureVerifier(), clock),
    database,
    health: new HealthService(db, keys, checkpointer, database, { pingTimeoutMs: config.readiness.dbPingTimeoutMs, logCurrentMs: config.readiness.logCurrentMs }, witnesses?.client, guard),
    witnesses,
    watcher,
    async start() {
      const origin = await settleLogOrigin(db, { configured: config.logOrigin, publicUrl: config.publicUrl });
      log.startWithOrigin(origin);
      if (!isHostOrigin(origin, config.publicUrl)) {
        logger.warn({ origin, publicUrl: config.publicUrl }, 'the log origin is not the public URL\'s host name: sigstore-go and cosign will not verify this log\'s bundles (sigstore-js and modelsign will); see README, "Verifying with other tools"');
      }
      if (witnesses) {
        const problem = witnessOriginProblem(origin);
        if (problem) throw new LogOriginError(`MODELSIGN_WITNESS_POLICY is set but this log's origin ${JSON.stringify(origin)} cannot be witnessed: ${problem}; witnesses keep one state per origin, so a witnessed log needs a unique one (a new log with MODELSIGN_LOG_ORIGIN, e.g. models.example.com/log; README, "Witnesses")`);
      }
      await keys.start();
      if (witnesses && witnesses.config.policy.logs.length > 0) {
        const active = keys.list().find((k) => k.purpose === 'log' && k.status === 'active');
        if (!witnesses.config.policy.logs.some((l) => l.vkey.name === origin && active && equalBytes(l.vkey.publicKey, active.publicKey))) {
          throw new LogOriginError(`MODELSIGN_WITNESS_POLICY: its log lines do not name this log (origin ${origin}) with its active log key; see GET /v1/log/vkey`);
        }
      }
      // Before anything is appended: is this database behind a checkpoint the log published?
      const treeSize = (await readTree(db)).size;
      const logKeys = () => keys.list().filter((k) => k.purpose === 'log' && k.status !== 'pending');
      const behind = (ahead: PublishedAhead | undefined) => {
        if (ahead) logger.error(ahead, `log alarm: ${ahead.source} holds a checkpoint of this log of size ${ahead.size}, signed by its key, but this database holds a tree of ${ahead.treeSize}: restored from an older backup? Appending is stopped (503 log_behind_published) so the log cannot fork`);
      };
      if (config.mirrorUrl) {
        behind(await checkMirror(config.mirrorUrl, origin, logKeys(), treeSize, guard));
      }
      if (config.mirror) {
        behind(await checkMirrorFolder(config.mirror.dir, origin, logKeys(), treeSize, guard));
      }
      if (witnesses) await witnesses.client.checkPublished(treeSize);
      const sequenced = guard.publishedAhead ? 0 : await backfill.run();
      if (sequenced > 0) logger.info({ sequenced }, 'added signatures stored before the transparency log to the log');
      await checkpointer.checkpointNow();
      await witnesses?.client.start();
      // In the background: until it reaches them, old entries' bundles are 503, and nothing else waits.
      leavesDone = leaves.run(config.leafBackfillBatch).catch((err: unknown) => logger.error({ err }, 'the leaf data backfill stopped; it resumes at the next start'));
      await watcher.start();
      if (config.oidc.allowInsecure) logger.warn('MODELSIGN_OIDC_ALLOW_INSECURE=1: OIDC issuers over plain http are accepted; use this only in tests');
      if (scheduled) await keys.runSchedule();
      for (const job of background) job.start();
    },
    async stop() {
      // First, before anything it uses stops: signing whose request is still running.
      await signing.idle();
      leaves.stop();
      await leavesDone;
      await Promise.all(background.map((job) => job.stop()));
      await checkpointer.stop();
      oidc.close();
      await Promise.all([audit.seal.idle(), watcher.check.idle(), keys.idle()]);
      await deps.backend.close?.();
    },
  };
}
