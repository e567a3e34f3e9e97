// The only module under src/ that reads process.env (bin/modelsign.js also reads
// MODELSIGN_NO_PREBUILT). Every variable is documented here, in README.md and in .env.example;
// a bad value stops the service at start with a message naming the variable.
import path from 'node:path';
import { parseDuration } from './core/duration.ts';

export interface Config {
  /** PostgreSQL connection string; unset means the embedded PGlite database under dataDir. */
  databaseUrl: string | undefined;
  /** Where the embedded database (and its generated KEK file) live. */
  dataDir: string;
  /** Base64 or hex of 32 bytes, from MODELSIGN_KEK. */
  kek: string | undefined;
  /** A file holding the KEK, from MODELSIGN_KEK_FILE. */
  kekFile: string | undefined;
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The transparency log's origin line in checkpoints. */
  logOrigin: string;
  /** Upper bound on PostgreSQL connections per instance. */
  dbPoolSize: number;
  /** How often each instance polls for revocations and key changes made by other instances. */
  statePollMs: number;
  /** How long a signing call waits for its log entry to be in a signed checkpoint. */
  tlogWaitMs: number;
  /** Scheduled rotation: period per purpose (MODELSIGN_ROTATE_<PURPOSE>_EVERY), and MODELSIGN_PREPUBLISH. */
  rotation: { every: Partial<Record<'release' | 'log' | 'token', number>>; prepublishMs: number };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = nonEmpty(env, 'DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const kek = nonEmpty(env, 'MODELSIGN_KEK');
  const kekFile = nonEmpty(env, 'MODELSIGN_KEK_FILE');
  if (kek && kekFile) throw new ConfigError('set MODELSIGN_KEK or MODELSIGN_KEK_FILE, not both');
  if (databaseUrl && !kek && !kekFile) {
    throw new ConfigError('with DATABASE_URL set, MODELSIGN_KEK or MODELSIGN_KEK_FILE is required (32 random bytes, e.g. `openssl rand -base64 32`)');
  }
  const logLevel = (nonEmpty(env, 'LOG_LEVEL') ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const logOrigin = nonEmpty(env, 'MODELSIGN_LOG_ORIGIN') ?? 'modelsign.local/log';
  // The origin is the checkpoint's first line and the log key's name in signed notes, where a
  // key name may hold no spaces and no '+'.
  if (!/^[\x21-\x2a\x2c-\x7e]{1,200}$/.test(logOrigin)) throw new ConfigError('MODELSIGN_LOG_ORIGIN must be printable ASCII without spaces or "+", e.g. example.com/modelsign');
  const duration = (name: string): number | undefined => {
    const raw = nonEmpty(env, name);
    if (raw === undefined) return undefined;
    try {
      return parseDuration(raw);
    } catch {
      throw new ConfigError(`${name} must be a duration such as 90d, 12h, 30m or 45s, got ${JSON.stringify(raw)}`);
    }
  };
  const every: Config['rotation']['every'] = {};
  for (const purpose of ['release', 'log', 'token'] as const) {
    const ms = duration(`MODELSIGN_ROTATE_${purpose.toUpperCase()}_EVERY`);
    if (ms !== undefined) every[purpose] = ms;
  }
  const prepublishMs = duration('MODELSIGN_PREPUBLISH') ?? 7 * 86_400_000;
  for (const [purpose, ms] of Object.entries(every)) {
    if (prepublishMs >= ms) throw new ConfigError(`MODELSIGN_PREPUBLISH must be shorter than MODELSIGN_ROTATE_${purpose.toUpperCase()}_EVERY`);
  }
  return {
    databaseUrl,
    dataDir: path.resolve(nonEmpty(env, 'MODELSIGN_DATA_DIR') ?? 'data'),
    kek,
    kekFile: kekFile === undefined ? undefined : path.resolve(kekFile),
    host: nonEmpty(env, 'HOST') ?? '127.0.0.1',
    port: integer(env, 'PORT', 8080, 0, 65535),
    logLevel,
    logOrigin,
    dbPoolSize: integer(env, 'MODELSIGN_DB_POOL_SIZE', 20, 1, 1000),
    statePollMs: integer(env, 'MODELSIGN_STATE_POLL_MS', 250, 10, 60_000),
    tlogWaitMs: integer(env, 'MODELSIGN_TLOG_WAIT_MS', 2000, 0, 60_000),
    rotation: { every, prepublishMs },
  };
}

/** What the client commands (hash, sign, verify, audit, log monitor) read from the environment. */
export interface ClientEnv {
  /** MODELSIGN_SERVER: the service URL when --server is not given. */
  server: string | undefined;
  /** MODELSIGN_TOKEN: the publisher token for `sign` when --token is not given. */
  token: string | undefined;
  /** MODELSIGN_PROGRESS_AFTER_MS: how long work runs before a progress bar appears (default 1000). */
  progressAfterMs: number;
  /** MODELSIGN_DEBUG: print the stack of an unexpected error (for bug reports). */
  debug: boolean;
}

export function clientEnv(env: NodeJS.ProcessEnv = process.env): ClientEnv {
  return {
    server: nonEmpty(env, 'MODELSIGN_SERVER'),
    token: nonEmpty(env, 'MODELSIGN_TOKEN'),
    progressAfterMs: integer(env, 'MODELSIGN_PROGRESS_AFTER_MS', 1000, 0, 3_600_000),
    debug: nonEmpty(env, 'MODELSIGN_DEBUG') !== undefined,
  };
}
