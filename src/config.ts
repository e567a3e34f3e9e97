// The only module under src/ that reads process.env (bin/modelsign.js also reads
// MODELSIGN_NO_PREBUILT), and the only place a default is written: every other module takes its
// settings from a Config. Every variable is documented here, in README.md and in .env.example;
// a bad value stops the service at start with a message naming the variable.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDuration } from './core/duration.ts';
import { ALGORITHM_IDS, algorithmOf } from './core/crypto/registry.ts';
import { KEY_PURPOSES } from './core/keys/key.ts';
import { KEY_SLOTS, WITNESS_SLOT, type KeySlot, type RotationSchedule } from './core/keys/lifecycle.ts';
import { parsePkcs11Uri, Pkcs11UriError } from './core/pkcs11-uri.ts';
import { TlogError } from './core/tlog/tlog-error.ts';
import { parseWitnessPolicy, type WitnessPolicy } from './core/tlog/witness-policy.ts';
import type { WitnessKey } from './core/tlog/cosignature.ts';
import { isKeyName } from './core/tlog/signed-note.ts';
import { NOTE_TYPE, type Vkey } from './core/tlog/vkey.ts';

export interface Config {
  /** PostgreSQL connection string; unset means the embedded PGlite database under dataDir. */
  databaseUrl: string | undefined;
  /** Where the embedded database (and its generated KEK file) live. */
  dataDir: string;
  /** Base64 or hex of 32 bytes, from MODELSIGN_KEK. */
  kek: string | undefined;
  /** A file holding the KEK, from MODELSIGN_KEK_FILE. */
  kekFile: string | undefined;
  /** MODELSIGN_KEY_BACKEND: where new private keys are made (`kek`: wrapped in their rows; `pkcs11`: in a token). */
  keyBackend: 'kek' | 'pkcs11';
  /** The PKCS#11 token, when keyBackend is pkcs11. */
  pkcs11: Pkcs11Config | undefined;
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * MODELSIGN_PUBLIC_URL: where clients reach the service. A new log's origin is its host name,
   * the trusted root's baseUrl is this URL, and (with trusted publishing) it is the OIDC audience.
   */
  publicUrl: string;
  /**
   * MODELSIGN_LOG_ORIGIN: the origin of a log created before MODELSIGN_PUBLIC_URL existed, or of a
   * new log that must not be named after the public URL's host. A log's origin never changes:
   * one stored in the database wins, and a different value here stops the start.
   */
  logOrigin: string | undefined;
  /** Upper bound on PostgreSQL connections per instance. */
  dbPoolSize: number;
  /** MODELSIGN_DB_STATEMENT_TIMEOUT_MS: PostgreSQL's statement_timeout for the service's sessions; past it, 503 database_busy. */
  dbStatementTimeoutMs: number;
  /** MODELSIGN_DB_ACQUIRE_TIMEOUT_MS: how long a request waits for a pooled connection (or a new one); past it, 503 database_busy. */
  dbAcquireTimeoutMs: number;
  /** MODELSIGN_RATE_LIMIT_AUTH_REFUSALS: refused authentications a minute per address (IPv6 /64) before 429; 0 = no cap. */
  authRefusalsPerMinute: number;
  /** How often each instance polls for revocations and key changes made by other instances. */
  statePollMs: number;
  /** How long a signing call waits for its log entry to be in a signed checkpoint. */
  tlogWaitMs: number;
  /** Scheduled rotation: period per purpose (MODELSIGN_ROTATE_<PURPOSE>_EVERY), and MODELSIGN_PREPUBLISH. */
  rotation: RotationSchedule;
  /** Requests per minute per client address on public routes, and per token on authenticated ones; 0 turns a limit off. */
  rateLimit: { publicPerMinute: number; tokenPerMinute: number };
  /** REDIS_URL: a shared store for the rate limits, so they hold across instances. */
  redisUrl: string | undefined;
  /** MODELSIGN_TRUST_PROXY: whose X-Forwarded-For to believe (false, true, a hop count, or addresses/CIDRs). */
  trustProxy: boolean | number | string[];
  /** A request that has not been answered within this time is cut off (408 or a closed socket). */
  requestTimeoutMs: number;
  /** MODELSIGN_WEB: the public pages at / and the admin console at /admin (`all`), the public pages only (`public`), or none (`off`). */
  web: 'all' | 'public' | 'off';
  /** How often each instance looks for log entries no checkpoint covers yet (e.g. left by a crashed instance). */
  checkpointIntervalMs: number;
  /** How often recorded audit events are sealed into the hash chain. */
  auditSealMs: number;
  /** How often scheduled rotation looks whether something is due (it acts only then). */
  scheduleIntervalMs: number;
  /** Log tree nodes kept in memory per instance (0: none). */
  nodeCacheSize: number;
  /** Bytes of C2SP tiles and entry bundles kept in memory per instance (0: none). */
  tileCacheBytes: number;
  /** Entries whose leaf data the start-up backfill stores per transaction (tiles migration). */
  leafBackfillBatch: number;
  /** A kid no instance key has (another instance's new key?) reloads the keys at most this often. */
  keyRefreshMinIntervalMs: number;
  /** How often token keys due for destruction are destroyed in the key backend. */
  tokenKeyDestructionMs: number;
  /** Readiness: how long the database has to answer, and how recently the checkpointer must have seen the log. */
  readiness: { dbPingTimeoutMs: number; logCurrentMs: number };
  /** Signing batches: rows and approximate bytes per statement at most. */
  signingBatch: { maxRows: number; maxBytes: number };
  /** Trusted publishing (OIDC ID-token exchange). */
  oidc: OidcConfig;
  /** MODELSIGN_WITNESS_POLICY, MODELSIGN_WITNESS_PACE: the witnesses the log submits its checkpoints to; unset, none. */
  witnesses: WitnessConfig | undefined;
  /**
   * MODELSIGN_MIRROR_URL: where a mirror of this log is served (`log mirror`; the prefix holding
   * `checkpoint`). Read at start: a checkpoint there signed by this log's key and larger than the
   * database's tree stops appending (503 log_behind_published).
   */
  mirrorUrl: string | undefined;
  /**
   * MODELSIGN_MIRROR_DIR, MODELSIGN_MIRROR_INTERVAL: a folder the service keeps a `log mirror` of
   * its own log in (one instance at a time, under an advisory lock), every interval (default 1m);
   * unset, none. Its checkpoint is also read at start as MODELSIGN_MIRROR_URL's is.
   */
  mirror: { dir: string; intervalMs: number } | undefined;
  /** `modelsign witness` (MODELSIGN_WITNESS_NAME, MODELSIGN_WITNESS_LOGS); unset, the command refuses to start. */
  witnessMode: WitnessModeConfig | undefined;
  /** How often the witness client looks for a witness due a request (no variable). */
  witnessIntervalMs: number;
  /** How long a witness has to answer an add-checkpoint request (no variable). */
  witnessRequestTimeoutMs: number;
}

export interface WitnessTarget {
  /** The policy's name for the witness (groups refer to it). */
  name: string;
  key: WitnessKey;
  /** The submission prefix: requests go to `<url>/add-checkpoint`. */
  url: string;
  /** At most one request per this many milliseconds (MODELSIGN_WITNESS_PACE, default 10 s). */
  paceMs: number;
}

export interface WitnessConfig {
  /** The policy file, as read (served for review, compared by `trust export`). */
  text: string;
  policy: WitnessPolicy;
  targets: WitnessTarget[];
}

/** `modelsign witness`: who it is and what it witnesses. */
export interface WitnessModeConfig {
  /** MODELSIGN_WITNESS_NAME: the name it cosigns under (its vkey's key name), e.g. witness.example.com. */
  name: string;
  /**
   * MODELSIGN_WITNESS_LOGS: a C2SP tlog-policy file whose `log <vkey> [<url>]` lines are the logs
   * it witnesses (the URL: where the log's checkpoint is read at start), and whose `witness` lines
   * are fellow witnesses whose monitoring endpoints (their URL) are read at start too.
   */
  logs: { vkey: Vkey; url: string | undefined }[];
  peers: { name: string; url: string }[];
  /** MODELSIGN_WITNESS_RATE_LIMIT: add-checkpoint requests a minute per client address; 0 = none. */
  perMinute: number;
}

export interface OidcConfig {
  /** MODELSIGN_OIDC_AUDIENCE, default the public URL: the `aud` every ID token must carry. */
  audience: string;
  /** MODELSIGN_OIDC_ALLOW_INSECURE=1: issuers (and their JWKS) over plain http, for tests only. */
  allowInsecure: boolean;
  /** MODELSIGN_OIDC_RATE_LIMIT_ADDRESS: exchanges a minute per client address, per instance; 0 = none. */
  perAddressPerMinute: number;
  /** MODELSIGN_OIDC_RATE_LIMIT_REPOSITORY: verified exchanges an hour per (issuer, repository or project id), per instance; 0 = none. */
  perRepositoryPerHour: number;
  /** At most one JWKS fetch per issuer for an unknown kid in this long (no variable; tests lower it). */
  jwksCooldownMs: number;
}

export interface Pkcs11Config {
  /** MODELSIGN_PKCS11_MODULE, else the URI's module-path: the module's absolute path. */
  modulePath: string;
  /** From MODELSIGN_PKCS11_URI: the token's label, and optionally its serial and manufacturer. */
  token: string;
  serial: string | undefined;
  manufacturer: string | undefined;
  /** MODELSIGN_PKCS11_PIN_FILE, else the URI's pin-source: the file holding the user PIN. */
  pinFile: string;
  /** MODELSIGN_PKCS11_PURPOSES: the key slots whose new keys are made in the token (the others stay KEK-wrapped). */
  slots: KeySlot[];
  /** MODELSIGN_PKCS11_SESSIONS: logged-in sessions kept open (one operation each at a time). */
  sessions: number;
}

/** The settings that have no environment variable. Tests override them through a Config. */
const CHECKPOINT_INTERVAL_MS = 500;
const FIXED_SETTINGS = {
  checkpointIntervalMs: CHECKPOINT_INTERVAL_MS,
  auditSealMs: 500,
  scheduleIntervalMs: 1_000,
  nodeCacheSize: 200_000,
  keyRefreshMinIntervalMs: 100,
  // Ten missed looks at the log means the checkpointer is stuck.
  readiness: { dbPingTimeoutMs: 1_000, logCurrentMs: 10 * CHECKPOINT_INTERVAL_MS },
  signingBatch: { maxRows: 256, maxBytes: 8 * 1024 * 1024 },
  // Token keys of revoked or long-retired slots, destroyed in the backend (PKCS#11).
  tokenKeyDestructionMs: 60_000,
  witnessIntervalMs: 250,
  witnessRequestTimeoutMs: 10_000,
} as const satisfies Partial<Config>;

/** A C2SP tlog-policy file a variable names, read and parsed (after `prepare`), or a ConfigError naming the variable. */
function policyFile(variable: string, file: string, prepare: (text: string) => string): { text: string; policy: WitnessPolicy } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return { text, policy: parseWitnessPolicy(prepare(text)) };
  } catch (err) {
    if (err instanceof TlogError) throw new ConfigError(`${variable}: ${file}: ${err.message}`);
    throw err;
  }
}

/** The witnesses to submit to: a C2SP tlog-policy whose every witness line has its URL, and the pace per witness. */
function witnessesOf(env: NodeJS.ProcessEnv, parse: (name: string) => number | undefined): WitnessConfig | undefined {
  const file = nonEmpty(env, 'MODELSIGN_WITNESS_POLICY');
  const pace = nonEmpty(env, 'MODELSIGN_WITNESS_PACE');
  if (!file) {
    if (pace) throw new ConfigError('MODELSIGN_WITNESS_PACE is set without MODELSIGN_WITNESS_POLICY');
    return undefined;
  }
  const { text, policy } = policyFile('MODELSIGN_WITNESS_POLICY', file, (t) => t);
  if (policy.witnesses.length === 0) throw new ConfigError(`MODELSIGN_WITNESS_POLICY: ${file} names no witness`);
  const paces = new Map<string, number>();
  for (const item of (pace ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, value] = item.split('=');
    const ms = value === undefined ? undefined : parse(value);
    if (!name || ms === undefined || ms < 1000) throw new ConfigError(`MODELSIGN_WITNESS_PACE: ${JSON.stringify(item)} is not name=DURATION of at least 1s (e.g. w1=10s,w2=1m)`);
    if (!policy.witnesses.some((w) => w.name === name)) throw new ConfigError(`MODELSIGN_WITNESS_PACE: ${name} is not a witness of ${file}`);
    paces.set(name, ms);
  }
  const targets = policy.witnesses.map((w) => {
    let url: URL | undefined;
    try {
      url = w.url === undefined ? undefined : new URL(w.url);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
      throw new ConfigError(`MODELSIGN_WITNESS_POLICY: witness ${w.name} needs its add-checkpoint URL prefix on its line ("witness ${w.name} <vkey> https://...")`);
    }
    return { name: w.name, key: w.key, url: url.href.replace(/\/$/, ''), paceMs: paces.get(w.name) ?? 10_000 };
  });
  return { text, policy, targets };
}

/** What `modelsign witness` witnesses (MODELSIGN_WITNESS_NAME and MODELSIGN_WITNESS_LOGS, both or neither). */
function witnessModeOf(env: NodeJS.ProcessEnv): WitnessModeConfig | undefined {
  const name = nonEmpty(env, 'MODELSIGN_WITNESS_NAME');
  const file = nonEmpty(env, 'MODELSIGN_WITNESS_LOGS');
  if (!name && !file) return undefined;
  if (!name || !file) throw new ConfigError('MODELSIGN_WITNESS_NAME and MODELSIGN_WITNESS_LOGS go together: the name this witness cosigns under, and the tlog-policy file of the logs it witnesses');
  if (!isKeyName(name) || name.length > 255) throw new ConfigError(`MODELSIGN_WITNESS_NAME must be a note key name (no spaces, no "+", at most 255 bytes), e.g. witness.example.com; got ${JSON.stringify(name)}`);
  // Its quorum means nothing here; a file of log lines alone is enough.
  const { policy } = policyFile('MODELSIGN_WITNESS_LOGS', file, (t) => (/^quorum\s/m.test(t) ? t : `${t.replace(/\n?$/, '\n')}quorum none\n`));
  if (policy.logs.length === 0) throw new ConfigError(`MODELSIGN_WITNESS_LOGS: ${file} names no log ("log <vkey> [<checkpoint URL prefix>]")`);
  const origins = new Set<string>();
  for (const log of policy.logs) {
    if (log.vkey.type !== NOTE_TYPE.ed25519) throw new ConfigError(`MODELSIGN_WITNESS_LOGS: the log ${log.vkey.name} needs an Ed25519 (type 0x01) note key`);
    if (origins.has(log.vkey.name)) throw new ConfigError(`MODELSIGN_WITNESS_LOGS: the log ${log.vkey.name} is named twice`);
    origins.add(log.vkey.name);
  }
  const httpUrl = (raw: string, what: string): string => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(`MODELSIGN_WITNESS_LOGS: ${what}: ${JSON.stringify(raw)} is not a URL`);
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') throw new ConfigError(`MODELSIGN_WITNESS_LOGS: ${what} must be an http(s) URL prefix`);
    return url.href.replace(/\/$/, '');
  };
  return {
    name,
    logs: policy.logs.map((l) => ({ vkey: l.vkey, url: l.url === undefined ? undefined : httpUrl(l.url, `the log ${l.vkey.name}`) })),
    peers: policy.witnesses.filter((w) => w.url !== undefined).map((w) => ({ name: w.name, url: httpUrl(w.url!, `the witness ${w.name}`) })),
    perMinute: integer(env, 'MODELSIGN_WITNESS_RATE_LIMIT', 600, 0, 1_000_000),
  };
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

function flagOf(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = nonEmpty(env, name);
  if (raw === undefined || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${name} must be 1 or 0, got ${JSON.stringify(raw)}`);
}

// An audience is compared as an exact string with the ID token's `aud`: printable, no spaces.
function oidcAudienceOf(raw: string): string {
  if (!/^[\x21-\x7e]{1,255}$/.test(raw)) throw new ConfigError(`MODELSIGN_OIDC_AUDIENCE must be 1 to 255 printable characters without spaces, got ${JSON.stringify(raw)}`);
  return raw;
}

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

/** `release`, `log`, `token`, or one release algorithm (`release:ed25519`, `release:ecdsa-p256`); empty is all. */
// Every slot a token may hold: the service's, and a witness's (`modelsign witness`).
const ALL_SLOTS: readonly KeySlot[] = [...KEY_SLOTS, WITNESS_SLOT];

function slotsOf(raw: string | undefined): KeySlot[] {
  if (raw === undefined) return [...ALL_SLOTS];
  const chosen = new Set<KeySlot>();
  for (const item of raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    const [purpose, algorithm] = item.split(':');
    const matches = ALL_SLOTS.filter((slot) => slot.purpose === purpose && (algorithm === undefined || algorithmOf(slot.algorithm).name === algorithm));
    if (matches.length === 0) {
      const names = [...KEY_PURPOSES, ...ALGORITHM_IDS.map((a) => `release:${algorithmOf(a).name}`)];
      throw new ConfigError(`MODELSIGN_PKCS11_PURPOSES: unknown "${item}"; use a comma-separated list of ${names.join(', ')}`);
    }
    for (const slot of matches) chosen.add(slot);
  }
  if (chosen.size === 0) throw new ConfigError('MODELSIGN_PKCS11_PURPOSES names no key purpose');
  return ALL_SLOTS.filter((slot) => chosen.has(slot));
}

function pkcs11Of(env: NodeJS.ProcessEnv): Pkcs11Config {
  if (env.MODELSIGN_PKCS11_PIN !== undefined) {
    throw new ConfigError('MODELSIGN_PKCS11_PIN is refused: a PIN in the environment is visible to every process that can read it; put it in a file (mode 0600) and set MODELSIGN_PKCS11_PIN_FILE');
  }
  const raw = nonEmpty(env, 'MODELSIGN_PKCS11_URI');
  if (!raw) throw new ConfigError('MODELSIGN_KEY_BACKEND=pkcs11 needs MODELSIGN_PKCS11_URI, e.g. pkcs11:token=modelsign');
  let uri;
  try {
    uri = parsePkcs11Uri(raw);
  } catch (err) {
    if (err instanceof Pkcs11UriError) throw new ConfigError(`MODELSIGN_PKCS11_URI: ${err.message}`);
    throw err;
  }
  const modulePath = nonEmpty(env, 'MODELSIGN_PKCS11_MODULE') ?? uri.modulePath;
  if (!modulePath) throw new ConfigError('MODELSIGN_KEY_BACKEND=pkcs11 needs the module: set MODELSIGN_PKCS11_MODULE (e.g. /usr/lib/softhsm/libsofthsm2.so) or module-path in the URI');
  if (!path.isAbsolute(modulePath)) throw new ConfigError('MODELSIGN_PKCS11_MODULE must be an absolute path');
  const pinFile = nonEmpty(env, 'MODELSIGN_PKCS11_PIN_FILE');
  if (pinFile && uri.pinFile) throw new ConfigError('the PIN comes from MODELSIGN_PKCS11_PIN_FILE or the URI\'s pin-source, not both');
  if (!pinFile && !uri.pinFile) throw new ConfigError('MODELSIGN_KEY_BACKEND=pkcs11 needs the user PIN: set MODELSIGN_PKCS11_PIN_FILE or pin-source=file:/path in the URI');
  return {
    modulePath,
    token: uri.token,
    serial: uri.serial,
    manufacturer: uri.manufacturer,
    pinFile: path.resolve((pinFile ?? uri.pinFile)!),
    slots: slotsOf(nonEmpty(env, 'MODELSIGN_PKCS11_PURPOSES')),
    sessions: integer(env, 'MODELSIGN_PKCS11_SESSIONS', 4, 1, 256),
  };
}

function trustProxy(env: NodeJS.ProcessEnv): Config['trustProxy'] {
  const raw = nonEmpty(env, 'MODELSIGN_TRUST_PROXY');
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d{1,2}$/.test(raw)) return Number(raw);
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0 || list.some((a) => !/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(a))) {
    throw new ConfigError('MODELSIGN_TRUST_PROXY must be true, false, a hop count, or a comma-separated list of proxy addresses or CIDRs');
  }
  return list;
}

/** What a checkpoint origin may be: a C2SP note key name (no spaces, no '+'), printable ASCII. */
export function isLogOrigin(origin: string): boolean {
  return /^[\x21-\x2a\x2c-\x7e]{1,200}$/.test(origin);
}

/** An http(s) URL without query, fragment or credentials, without a trailing slash. */
function publicUrlOf(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`MODELSIGN_PUBLIC_URL must be an absolute http(s) URL such as https://modelsign.example.com, got ${JSON.stringify(raw)}`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '' || !isLogOrigin(url.hostname)) {
    throw new ConfigError('MODELSIGN_PUBLIC_URL must be an http(s) URL with a host name and no query, fragment or credentials, e.g. https://modelsign.example.com');
  }
  return url.href.replace(/\/$/, '');
}

function mirrorOf(dir: string | undefined, intervalMs: number | undefined): Config['mirror'] {
  if (dir === undefined) {
    if (intervalMs !== undefined) throw new ConfigError('MODELSIGN_MIRROR_INTERVAL is set without MODELSIGN_MIRROR_DIR');
    return undefined;
  }
  if (!path.isAbsolute(dir)) throw new ConfigError(`MODELSIGN_MIRROR_DIR must be an absolute path, got ${JSON.stringify(dir)}`);
  if (intervalMs !== undefined && intervalMs < 1000) throw new ConfigError('MODELSIGN_MIRROR_INTERVAL must be at least 1s');
  return { dir, intervalMs: intervalMs ?? 60_000 };
}

function mirrorUrlOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`MODELSIGN_MIRROR_URL must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') throw new ConfigError('MODELSIGN_MIRROR_URL must be an http(s) URL without query or fragment (the prefix holding the mirror\'s checkpoint)');
  return url.href.replace(/\/$/, '');
}

/** DATABASE_URL, or the first line of the file DATABASE_URL_FILE names (so the password can be a mounted secret). */
function databaseUrlOf(env: NodeJS.ProcessEnv): string | undefined {
  const direct = nonEmpty(env, 'DATABASE_URL');
  const file = nonEmpty(env, 'DATABASE_URL_FILE');
  if (direct && file) throw new ConfigError('set DATABASE_URL or DATABASE_URL_FILE, not both');
  if (!file) return direct;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`DATABASE_URL_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const url = text.split('\n')[0]!.trim();
  if (url === '') throw new ConfigError(`DATABASE_URL_FILE: ${file} is empty`);
  return url;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = databaseUrlOf(env);
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    // The URL may hold a password: never echo it.
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const kek = nonEmpty(env, 'MODELSIGN_KEK');
  const kekFile = nonEmpty(env, 'MODELSIGN_KEK_FILE');
  if (kek && kekFile) throw new ConfigError('set MODELSIGN_KEK or MODELSIGN_KEK_FILE, not both');
  const keyBackend = (nonEmpty(env, 'MODELSIGN_KEY_BACKEND') ?? 'kek') as Config['keyBackend'];
  if (keyBackend !== 'kek' && keyBackend !== 'pkcs11') throw new ConfigError(`MODELSIGN_KEY_BACKEND must be kek or pkcs11, got ${JSON.stringify(keyBackend)}`);
  for (const name of ['MODELSIGN_PKCS11_URI', 'MODELSIGN_PKCS11_MODULE', 'MODELSIGN_PKCS11_PIN_FILE', 'MODELSIGN_PKCS11_PURPOSES', 'MODELSIGN_PKCS11_PIN']) {
    if (keyBackend === 'kek' && env[name] !== undefined) throw new ConfigError(`${name} is set but MODELSIGN_KEY_BACKEND is not pkcs11: set MODELSIGN_KEY_BACKEND=pkcs11 to use the token`);
  }
  const pkcs11 = keyBackend === 'pkcs11' ? pkcs11Of(env) : undefined;
  // With every key slot in the token there is nothing to wrap: the KEK is needed only for keys
  // that stay in their rows (other slots, or keys made before the move to the token).
  const allInToken = pkcs11 !== undefined && KEY_SLOTS.every((slot) => pkcs11.slots.includes(slot));
  if (databaseUrl && !kek && !kekFile && !allInToken) {
    throw new ConfigError('with DATABASE_URL set, MODELSIGN_KEK or MODELSIGN_KEK_FILE is required (32 random bytes, e.g. `openssl rand -base64 32`)');
  }
  const redisUrl = nonEmpty(env, 'REDIS_URL');
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL');
  const logLevel = (nonEmpty(env, 'LOG_LEVEL') ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const logOrigin = nonEmpty(env, 'MODELSIGN_LOG_ORIGIN');
  // The origin is the checkpoint's first line and the log key's name in signed notes, where a
  // key name may hold no spaces and no '+'.
  if (logOrigin !== undefined && !isLogOrigin(logOrigin)) throw new ConfigError('MODELSIGN_LOG_ORIGIN must be printable ASCII without spaces or "+", e.g. example.com/modelsign');
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const publicUrl = publicUrlOf(nonEmpty(env, 'MODELSIGN_PUBLIC_URL') ?? `http://localhost:${port}`);
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
  // A witness key is never rotated on a schedule: the logs it witnesses pin it.
  for (const purpose of KEY_PURPOSES.filter((p) => p !== 'witness')) {
    const ms = duration(`MODELSIGN_ROTATE_${purpose.toUpperCase()}_EVERY`);
    if (ms !== undefined) every[purpose] = ms;
  }
  const prepublishMs = duration('MODELSIGN_PREPUBLISH') ?? 7 * 86_400_000;
  for (const [purpose, ms] of Object.entries(every)) {
    if (prepublishMs >= ms) throw new ConfigError(`MODELSIGN_PREPUBLISH must be shorter than MODELSIGN_ROTATE_${purpose.toUpperCase()}_EVERY`);
  }
  const witnesses = witnessesOf(env, (raw) => {
    try {
      return parseDuration(raw);
    } catch {
      return undefined;
    }
  });
  // Witnesses pin one log key per origin and never follow a change (README, "Witnesses").
  if (witnesses && every.log !== undefined) throw new ConfigError('MODELSIGN_ROTATE_LOG_EVERY cannot be set with MODELSIGN_WITNESS_POLICY: witnesses pin the log key and refuse a new one');
  return {
    databaseUrl,
    dataDir: path.resolve(nonEmpty(env, 'MODELSIGN_DATA_DIR') ?? 'data'),
    kek,
    kekFile: kekFile === undefined ? undefined : path.resolve(kekFile),
    keyBackend,
    pkcs11,
    host: nonEmpty(env, 'HOST') ?? '127.0.0.1',
    port,
    logLevel,
    publicUrl,
    logOrigin,
    dbPoolSize: integer(env, 'MODELSIGN_DB_POOL_SIZE', 20, 1, 1000),
    dbStatementTimeoutMs: integer(env, 'MODELSIGN_DB_STATEMENT_TIMEOUT_MS', 5_000, 100, 600_000),
    dbAcquireTimeoutMs: integer(env, 'MODELSIGN_DB_ACQUIRE_TIMEOUT_MS', 5_000, 100, 600_000),
    authRefusalsPerMinute: integer(env, 'MODELSIGN_RATE_LIMIT_AUTH_REFUSALS', 30, 0, 1_000_000),
    statePollMs: integer(env, 'MODELSIGN_STATE_POLL_MS', 250, 10, 60_000),
    tlogWaitMs: integer(env, 'MODELSIGN_TLOG_WAIT_MS', 2000, 0, 60_000),
    tileCacheBytes: integer(env, 'MODELSIGN_TILE_CACHE_BYTES', 8 * 1024 * 1024, 0, 4 * 1024 * 1024 * 1024),
    leafBackfillBatch: integer(env, 'MODELSIGN_LEAF_BACKFILL_BATCH', 1000, 1, 100_000),
    rotation: { every, prepublishMs },
    rateLimit: {
      publicPerMinute: integer(env, 'MODELSIGN_RATE_LIMIT_PUBLIC', 3000, 0, 10_000_000),
      tokenPerMinute: integer(env, 'MODELSIGN_RATE_LIMIT_TOKEN', 12_000, 0, 10_000_000),
    },
    redisUrl,
    trustProxy: trustProxy(env),
    requestTimeoutMs: integer(env, 'MODELSIGN_REQUEST_TIMEOUT_MS', 30_000, 1_000, 600_000),
    web: webModeOf(env),
    oidc: {
      audience: oidcAudienceOf(nonEmpty(env, 'MODELSIGN_OIDC_AUDIENCE') ?? publicUrl),
      allowInsecure: flagOf(env, 'MODELSIGN_OIDC_ALLOW_INSECURE'),
      perAddressPerMinute: integer(env, 'MODELSIGN_OIDC_RATE_LIMIT_ADDRESS', 30, 0, 1_000_000),
      perRepositoryPerHour: integer(env, 'MODELSIGN_OIDC_RATE_LIMIT_REPOSITORY', 60, 0, 1_000_000),
      jwksCooldownMs: 60_000,
    },
    witnesses,
    mirrorUrl: mirrorUrlOf(nonEmpty(env, 'MODELSIGN_MIRROR_URL')),
    mirror: mirrorOf(nonEmpty(env, 'MODELSIGN_MIRROR_DIR'), duration('MODELSIGN_MIRROR_INTERVAL')),
    witnessMode: witnessModeOf(env),
    ...FIXED_SETTINGS,
    readiness: { ...FIXED_SETTINGS.readiness },
    signingBatch: { ...FIXED_SETTINGS.signingBatch },
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
  /** Trusted publishing from CI, used by `sign` when no token is given. */
  ci: {
    /** GitHub Actions (a job with `permissions: id-token: write`): where and with what the job asks for an ID token. */
    githubRequestUrl: string | undefined;
    githubRequestToken: string | undefined;
    /** MODELSIGN_ID_TOKEN: an ID token the CI put in the environment (GitLab `id_tokens`, or any other CI). */
    idToken: string | undefined;
  };
}

export function clientEnv(env: NodeJS.ProcessEnv = process.env): ClientEnv {
  return {
    server: nonEmpty(env, 'MODELSIGN_SERVER'),
    token: nonEmpty(env, 'MODELSIGN_TOKEN'),
    progressAfterMs: integer(env, 'MODELSIGN_PROGRESS_AFTER_MS', 1000, 0, 3_600_000),
    debug: nonEmpty(env, 'MODELSIGN_DEBUG') !== undefined,
    ci: {
      githubRequestUrl: nonEmpty(env, 'ACTIONS_ID_TOKEN_REQUEST_URL'),
      githubRequestToken: nonEmpty(env, 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'),
      idToken: nonEmpty(env, 'MODELSIGN_ID_TOKEN'),
    },
  };
}

function webModeOf(env: NodeJS.ProcessEnv): Config['web'] {
  const raw = nonEmpty(env, 'MODELSIGN_WEB') ?? 'all';
  if (raw !== 'all' && raw !== 'public' && raw !== 'off') throw new ConfigError(`MODELSIGN_WEB must be all, public or off, got ${JSON.stringify(raw)}`);
  return raw;
}
