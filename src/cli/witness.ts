// `modelsign witness`: runs a C2SP witness (app/witness-instance.ts) for the logs
// MODELSIGN_WITNESS_LOGS names, cosigning as MODELSIGN_WITNESS_NAME, until SIGTERM or SIGINT.
// `modelsign witness vkey` prints its vkey (for the logs' witness policies); `modelsign witness
// set-log-key ORIGIN VKEY` replaces a witnessed log's pinned key, the one audited way to do it.
import { createLogger } from '../app/logger.ts';
import { setWitnessedLogKey, startWitness, witnessVkey } from '../app/witness-instance.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { formatVkey, NOTE_TYPE } from '../core/tlog/vkey.ts';
import { logNoteKey, WitnessStartError } from '../services/witness-server.ts';
import { adminFailure, cliActor } from './admin-context.ts';
import { parse, UsageError } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';

const USAGE = `Usage: modelsign witness [serve]
       modelsign witness vkey
       modelsign witness set-log-key ORIGIN VKEY

Runs a C2SP witness (tlog-witness: POST /add-checkpoint, and the monitoring endpoint GET
/<hex sha256(origin)>/checkpoint) for the logs of MODELSIGN_WITNESS_LOGS (a tlog-policy file: "log
<vkey> [<checkpoint URL prefix>]" lines, and "witness" lines of fellow witnesses), cosigning as
MODELSIGN_WITNESS_NAME with a key of purpose witness (MODELSIGN_KEY_BACKEND: KEK-wrapped or in a
PKCS#11 token). State: DATABASE_URL, or the embedded database in MODELSIGN_DATA_DIR. HOST, PORT.
vkey prints the witness's vkey. set-log-key replaces the key a log is witnessed with (recorded in
the audit trail); MODELSIGN_WITNESS_LOGS must then name the new key too.
Exit codes: 0 stopped; 9 its state is behind a checkpoint it cosigned (restored from an older
backup: it refuses to start); 2 configuration; 5 the database or key backend failed.`;

const DRAIN_MS = 5_000;

function failure(err: unknown): unknown {
  if (err instanceof WitnessStartError) return new CliFailure(err.kind === 'behind' ? EXIT.history : EXIT.usage, err.message);
  if (err instanceof ConfigError) return new CliFailure(EXIT.usage, err.message);
  return adminFailure(err) ?? err;
}

function witnessConfig(): Config & { witnessMode: NonNullable<Config['witnessMode']> } {
  const config = loadConfig();
  if (!config.witnessMode) throw new CliFailure(EXIT.usage, `set MODELSIGN_WITNESS_NAME and MODELSIGN_WITNESS_LOGS\n\n${USAGE}`);
  return config as Config & { witnessMode: NonNullable<Config['witnessMode']> };
}

export async function witness(args: string[]): Promise<number> {
  const { positionals } = parse(args, {}, USAGE);
  const [action = 'serve', ...rest] = positionals;
  const config = witnessConfig();
  // The one-shot commands print their answer on stdout: their log lines go to stderr.
  const logger = action === 'serve' ? createLogger(config.logLevel) : createLogger('warn', process.stderr);
  if (action === 'serve') {
    if (rest.length > 0) throw new UsageError(USAGE);
    const instance = await startWitness(config, logger).catch((err: unknown) => {
      throw failure(err);
    });
    logger.info({ url: instance.url, vkey: instance.witness.vkey, logs: config.witnessMode.logs.map((l) => l.vkey.name), waiting: instance.witness.waiting }, 'modelsign witness is ready');
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    const deadline = setTimeout(() => instance.app.server.closeAllConnections(), DRAIN_MS);
    await instance.close();
    clearTimeout(deadline);
    setTimeout(() => process.exit(EXIT.ok), 2_000).unref();
    return EXIT.ok;
  }
  if (action === 'vkey') {
    if (rest.length > 0) throw new UsageError(USAGE);
    const vkey = await witnessVkey(config, logger).catch((err: unknown) => {
      throw failure(err);
    });
    process.stdout.write(`${vkey}\n`);
    return EXIT.ok;
  }
  if (action === 'set-log-key') {
    if (rest.length !== 2) throw new UsageError(`set-log-key needs ORIGIN and VKEY\n\n${USAGE}`);
    const [origin, text] = rest as [string, string];
    let key;
    try {
      key = logNoteKey(text);
    } catch (err) {
      throw new CliFailure(EXIT.usage, (err as Error).message);
    }
    if (key.name !== origin) throw new CliFailure(EXIT.usage, `the vkey is named ${key.name}, not ${origin}`);
    const vkey = formatVkey(origin, NOTE_TYPE.ed25519, key.publicKey);
    const previous = await setWitnessedLogKey(config, logger, origin, vkey, cliActor()).catch((err: unknown) => {
      throw failure(err);
    });
    if (previous === undefined) throw new CliFailure(EXIT.usage, `this witness does not witness ${origin}`);
    process.stdout.write(`the log ${origin} is now witnessed with ${vkey} (was ${previous}); name it in MODELSIGN_WITNESS_LOGS before the next start\n`);
    return EXIT.ok;
  }
  throw new UsageError(USAGE);
}
