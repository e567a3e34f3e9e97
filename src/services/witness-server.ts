// modelsign as a C2SP witness (`modelsign witness`): cosigns the checkpoints of the logs it is
// configured for (any C2SP log: an origin and its Ed25519 note key), after checking that each
// extends the one it cosigned before (core/tlog/witness-judge.ts has the spec's rules), and
// serves its newest cosigned checkpoint per log on the monitoring endpoint. State is stored
// before answering, by compare-and-swap on the size it held (db/witnessed-store.ts); its
// cosigning key is the key service's `witness` key.
//
// A log's key is pinned the first time the log is configured; a different key in the
// configuration stops the start (`modelsign witness set-log-key` changes it, audited). A witness
// restored from an older backup could cosign a fork: before it answers anything about a log
// after a start, it reads the log's checkpoint (and fellow witnesses' monitoring endpoints); a
// cosignature by its own key on a larger tree than it holds means its state went back, and the
// start stops, naming the log and both sizes. A log whose checkpoint cannot be read yet is
// refused (503) until one answer is seen.
import { createHash } from 'node:crypto';
import { equalBytes } from '../core/bytes.ts';
import type { PublicKey } from '../core/keys/key.ts';
import { parseCheckpoint, type Checkpoint } from '../core/tlog/checkpoint.ts';
import { cosignatureMessage, formatCosignatureLine, verifyCosignature, type WitnessKey } from '../core/tlog/cosignature.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import { noteKeyId, parseSignedNote } from '../core/tlog/signed-note.ts';
import { formatVkey, NOTE_TYPE, parseVkey, type Vkey } from '../core/tlog/vkey.ts';
import { authenticateAddCheckpoint, isRefusal, judgeAddCheckpoint, type WitnessRefusal } from '../core/tlog/witness-judge.ts';
import type { Database } from '../db/client.ts';
import { recordAudit } from '../db/audit-store.ts';
import { addWitnessedLog, readWitnessedCheckpoint, setWitnessedLogKey, swapWitnessedCheckpoint } from '../db/witnessed-store.ts';
import type { KeyService } from './keys.ts';
import type { Clock } from './support/clock.ts';

export interface WitnessedLogConfig {
  vkey: Vkey;
  /** Where the log's checkpoint is read at start (its tiles prefix: `<url>/checkpoint`). */
  url: string | undefined;
}

export interface WitnessServiceConfig {
  name: string;
  logs: WitnessedLogConfig[];
  /** Fellow witnesses whose monitoring endpoints are read at start. */
  peers: { name: string; url: string }[];
}

/** What the HTTP layer sends back. */
export interface WitnessAnswer {
  status: number;
  body: string;
  contentType: string;
}

/** The start was refused: the configuration and the stored state disagree, or the state went back. */
export class WitnessStartError extends Error {
  override readonly name = 'WitnessStartError';
  constructor(
    /** `configuration`: what is configured disagrees with what is pinned; `behind`: the state went back. */
    readonly kind: 'configuration' | 'behind',
    message: string,
  ) {
    super(message);
  }
}

const originHash = (origin: string) => createHash('sha256').update(origin).digest('hex');
const text = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): WitnessAnswer => ({ status, body: body.endsWith('\n') ? body : `${body}\n`, contentType });

export class WitnessService {
  /** Pinned key per origin (from the database). */
  private readonly keys = new Map<string, PublicKey>();
  /** Logs whose start check has not seen an answer yet: refused until it has. */
  private readonly unchecked = new Set<string>();
  private readonly byHash = new Map<string, string>();
  /** Logs found behind (a cosignature of ours on more than is held): refused for good, with why. */
  private readonly behind = new Map<string, string>();

  constructor(
    private readonly db: Database,
    private readonly keyService: KeyService,
    private readonly clock: Clock,
    private readonly hasher: LogHasher,
    readonly config: WitnessServiceConfig,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** The witness's cosigning key as a policy names it. */
  get witnessKey(): WitnessKey {
    const publicKey = this.keyService.signer('witness').publicKey;
    return { name: this.config.name, type: NOTE_TYPE.cosignatureV1, publicKey, keyId: noteKeyId(this.config.name, NOTE_TYPE.cosignatureV1, publicKey) };
  }

  /** Its vkey (type 0x04, cosignature/v1), for the `witness` lines of log policies. */
  get vkey(): string {
    return formatVkey(this.config.name, NOTE_TYPE.cosignatureV1, this.witnessKey.publicKey);
  }

  /** Pins the configured logs' keys (refusing a changed one), then runs the start check of every log. */
  async start(): Promise<void> {
    const now = this.clock.now();
    for (const log of this.config.logs) {
      const origin = log.vkey.name;
      const configured = formatVkey(origin, NOTE_TYPE.ed25519, log.vkey.publicKey);
      const pinned = await addWitnessedLog(this.db, origin, configured, now);
      if (pinned !== configured) {
        throw new WitnessStartError('configuration', `the log ${origin} is witnessed with the key ${pinned}, but MODELSIGN_WITNESS_LOGS names ${configured}: a log's key changes only with \`modelsign witness set-log-key ${origin} VKEY\` (audited)`);
      }
      this.keys.set(origin, { algorithm: 'Ed25519', publicKey: log.vkey.publicKey });
      this.byHash.set(originHash(origin), origin);
      this.unchecked.add(origin);
    }
    const behind = await this.checkAll();
    if (behind.length > 0) throw new WitnessStartError('behind', behind.join('; '));
  }

  /** Logs still refused because their checkpoint could not be read since the start. */
  get waiting(): string[] {
    return [...this.unchecked];
  }

  /**
   * The start check of every log not yet checked: its checkpoint (from its URL) and the peers'
   * views of it; a cosignature of ours on more than the state held means the state went back. A
   * log whose URL does not answer stays unchecked (refused); one without a URL is checked against
   * the peers only. Returns the logs found behind (kept refused, for good), in words.
   */
  async checkAll(): Promise<string[]> {
    const behind: string[] = [];
    for (const log of this.config.logs) {
      const origin = log.vkey.name;
      if (!this.unchecked.has(origin) || this.behind.has(origin)) continue;
      const held = await readWitnessedCheckpoint(this.db, origin);
      const fromLog = log.url ? await this.read(`${log.url}/checkpoint`) : undefined;
      const seen = [...(fromLog === undefined ? [] : [{ where: `the log at ${log.url}`, note: fromLog }])];
      for (const peer of this.config.peers) {
        const note = await this.read(`${peer.url}/${originHash(origin)}/checkpoint`);
        if (note !== undefined) seen.push({ where: `the witness ${peer.name}`, note });
      }
      const problem = seen.map((s) => this.behindProblem(origin, s.note, held, s.where)).find((p) => p !== undefined);
      if (problem) {
        this.behind.set(origin, problem);
        behind.push(problem);
      } else if (!log.url || fromLog !== undefined) this.unchecked.delete(origin);
    }
    return behind;
  }

  private async read(url: string): Promise<string | undefined> {
    try {
      const res = await this.fetchImpl(url, { signal: AbortSignal.timeout(5_000) });
      if (res.status !== 200) {
        await res.body?.cancel();
        return undefined;
      }
      return (await res.text()).slice(0, 256 * 1024);
    } catch {
      return undefined;
    }
  }

  /** Why a checkpoint note seen elsewhere shows the state went back (a valid cosignature of ours on more than is held), or undefined. */
  private behindProblem(origin: string, note: string, held: { size: number; rootHash: Uint8Array } | undefined, where: string): string | undefined {
    let checkpoint: Checkpoint;
    let signatures;
    let body: string;
    try {
      const parsed = parseSignedNote(note);
      body = parsed.text;
      checkpoint = parseCheckpoint(parsed.text);
      signatures = parsed.signatures;
    } catch {
      return undefined;
    }
    if (checkpoint.origin !== origin) return undefined;
    const key = this.witnessKey;
    for (const s of signatures) {
      if (s.name !== key.name || s.keyId !== key.keyId) continue;
      try {
        // Any date: what matters is that this key signed it.
        verifyCosignature(key, s.signature, checkpoint, body, Number.MAX_SAFE_INTEGER / 2);
      } catch {
        continue;
      }
      const heldSize = held?.size ?? 0;
      if (checkpoint.size > heldSize || (checkpoint.size === heldSize && held && !equalBytes(checkpoint.rootHash, held.rootHash))) {
        return `${where} shows a checkpoint of ${origin} of size ${checkpoint.size} cosigned by this witness, but its database holds ${heldSize}: it was restored from an older backup, and answering could cosign a fork; restore the newest backup of this witness (or retire its key and start a new witness)`;
      }
    }
    return undefined;
  }

  /** Answers POST /add-checkpoint. */
  async addCheckpoint(body: string): Promise<WitnessAnswer> {
    const authentic = authenticateAddCheckpoint(body, (origin) => this.keys.get(origin));
    if (isRefusal(authentic)) return this.refusal(authentic);
    const origin = authentic.checkpoint.origin;
    const behind = this.behind.get(origin);
    if (behind) return text(503, behind);
    if (this.unchecked.has(origin)) return text(503, `this witness has not yet read ${origin}'s checkpoint since it started; try again later`);
    // A lost compare-and-swap means another request moved the state: judge again over what is held now.
    for (let attempt = 0; attempt < 3; attempt++) {
      const held = await readWitnessedCheckpoint(this.db, origin);
      const refusal = judgeAddCheckpoint(authentic, held, this.hasher);
      if (refusal) return this.refusal(refusal);
      const key = this.witnessKey;
      const timestamp = Math.floor(this.clock.now().getTime() / 1000);
      const signature = await this.keyService.signer('witness').sign(cosignatureMessage(key, timestamp, authentic.checkpoint, authentic.text));
      const line = formatCosignatureLine(key, timestamp, signature);
      const note = `${authentic.request.note}${line}\n`;
      const stored = await swapWitnessedCheckpoint(this.db, held?.size, { origin, size: authentic.checkpoint.size, rootHash: authentic.checkpoint.rootHash, note }, this.clock.now());
      if (stored) return text(200, `${line}\n`);
    }
    const held = await readWitnessedCheckpoint(this.db, origin);
    return this.refusal({ status: 409, size: held?.size ?? 0, reason: 'the state moved while this request was judged' });
  }

  private refusal(r: WitnessRefusal): WitnessAnswer {
    return r.status === 409 ? text(409, `${r.size}\n`, 'text/x.tlog.size') : text(r.status, r.reason);
  }

  /** The monitoring endpoint: the newest checkpoint it cosigned for the origin of this hash, with its cosignature. */
  async monitored(hash: string): Promise<string | undefined> {
    const origin = this.byHash.get(hash);
    if (origin === undefined) return undefined;
    return (await readWitnessedCheckpoint(this.db, origin))?.note;
  }
}

/** A log's vkey as the configuration and `set-log-key` take it (an Ed25519 note key). */
export function logNoteKey(text: string): Vkey {
  const vkey = parseVkey(text.trim());
  if (vkey.type !== NOTE_TYPE.ed25519) throw new WitnessStartError('configuration', `${vkey.name}: a log's key must be an Ed25519 (type 0x01) note key`);
  return vkey;
}

/**
 * Replaces the key a log is witnessed with, in one transaction with its audit event (the one
 * way to change a pinned key). Returns the previous key, or undefined when the log is not witnessed.
 */
export async function changeWitnessedLogKey(db: Database, origin: string, vkey: string, actor: string, now: Date): Promise<string | undefined> {
  return db.prismaTransaction(async (tx) => {
    const [row] = await tx.$queryRawUnsafe<{ vkey: string }[]>('SELECT "vkey" FROM "witnessed_logs" WHERE "origin" = $1 FOR UPDATE', origin);
    if (!row) return undefined;
    await setWitnessedLogKey({ query: (sql, params) => tx.$queryRawUnsafe(sql, ...(params ?? [])) }, origin, vkey, now);
    await recordAudit(tx, { at: now, actor, action: 'witness.log_key_changed', target: `log:${origin}`, details: { from: row.vkey, to: vkey } });
    return row.vkey;
  });
}

