// Signing keys: created on first start (one active key per purpose), stored with the private half
// encrypted under the KEK, and held in memory as KeyObjects for signing. Every instance keeps a
// copy of the public records and reloads it when another instance changes keys (state-watcher).
//
// Lifecycle (DESIGN "Key lifecycle"): pending -> active -> retired, any state -> revoked. Every
// change runs in one transaction under one advisory lock, so instances asked at the same moment
// serialise, and a partial unique index keeps one active (and one pending) key per purpose.
// Release and log keys are introduced by a link statement signed with the active release key
// (the rotation chain, core/key-chain.ts).
import type { KeyObject } from 'node:crypto';
import { ModelsignError } from '../core/errors.ts';
import { encodeKeyLink, KEY_LINK_PAYLOAD_TYPE } from '../core/key-chain.ts';
import { preAuthEncoding } from '../core/dsse.ts';
import { toBase64, toBase64Url } from '../core/bytes.ts';
import { keyIdOf } from '../core/public-key.ts';
import type { KeyPurpose, KeyStatus } from '../core/verdict.ts';
import type { TrustedKey } from '../core/verify-bundle.ts';
import type { Prisma, PrismaClient } from '../db/client.ts';
import { recordAudit } from './audit.ts';
import type { Clock } from './clock.ts';
import { unwrapKey, wrapKey, type Kek } from './key-wrap.ts';
import { generateSeed, nodeSign, privateKeyFromSeed, publicKeyOf } from './node-ed25519.ts';
import { bumpStateEpoch } from './state-epoch.ts';

export const KEY_PURPOSES: readonly KeyPurpose[] = ['release', 'log', 'token'];

// Serialises key changes across instances (pg_advisory_xact_lock key).
const KEYS_LOCK = '7243043470021519618';

export interface KeyRecord {
  kid: string;
  purpose: KeyPurpose;
  algorithm: string;
  publicKey: Uint8Array;
  status: KeyStatus;
  createdAt: Date;
  activatedAt: Date | null;
  activatesAt: Date | null;
  retiredAt: Date | null;
  revokedAt: Date | null;
  compromisedAt: Date | null;
  reason: string | null;
}

export interface Signer {
  kid: string;
  purpose: KeyPurpose;
  sign(message: Uint8Array): Uint8Array;
}

export interface RotationSchedule {
  /** Rotation period per purpose, in milliseconds; a purpose without one rotates only on request. */
  every: Partial<Record<KeyPurpose, number>>;
  /** How long before activation the next key is published as pending. */
  prepublishMs: number;
}

export interface ChainDocument {
  keys: ReturnType<typeof chainKey>[];
  links: { seq: number; purpose: string; signer: string; kid: string; createdAt: Date; envelope: { payloadType: string; payload: string; signatures: { keyid: string; sig: string }[] } }[];
}

const PUBLIC_FIELDS = {
  kid: true,
  purpose: true,
  algorithm: true,
  publicKey: true,
  status: true,
  createdAt: true,
  activatedAt: true,
  activatesAt: true,
  retiredAt: true,
  revokedAt: true,
  compromisedAt: true,
  reason: true,
} as const;

type Tx = Prisma.TransactionClient;

function chainKey(k: KeyRecord) {
  return { kid: k.kid, kty: 'OKP', crv: 'Ed25519', x: toBase64Url(k.publicKey), purpose: k.purpose, status: k.status, createdAt: k.createdAt, compromisedAt: k.compromisedAt };
}

export class KeyService {
  /** Called after every reload (a key changed here or on another instance). */
  onReload: (() => void) | undefined;
  private records = new Map<string, KeyRecord>();
  private signers = new Map<KeyPurpose, Signer>();
  private loaded = new Map<string, Signer>();
  private refreshing: Promise<void> | undefined;
  private refreshedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly prisma: PrismaClient,
    private kek: Kek,
    private readonly clock: Clock,
    private readonly schedule: RotationSchedule = { every: {}, prepublishMs: 0 },
  ) {}

  /** Creates the missing active keys, then loads every key. Safe to run on many instances at once. */
  async start(): Promise<void> {
    await this.change(async (tx, now) => {
      const active = await tx.key.findMany({ where: { status: 'active' }, select: { purpose: true } });
      const missing = KEY_PURPOSES.filter((p) => !active.some((k) => k.purpose === p));
      // Release first: it signs the link that introduces the log key.
      for (const purpose of missing) await this.createKey(tx, purpose, 'active', now, 'system', null);
      // A database from before the rotation chain: introduce its log key too.
      const log = await tx.key.findFirst({ where: { purpose: 'log', status: 'active' }, select: { kid: true, publicKey: true } });
      const linked = log ? await tx.keyLink.findUnique({ where: { kid: log.kid }, select: { kid: true } }) : null;
      if (log && !linked) await this.link(tx, 'log', log.kid, new Uint8Array(log.publicKey), now);
      return missing.length > 0;
    });
    await this.reload();
  }

  /** Re-reads the key table; decrypts an active key only when it is new to this instance. */
  async reload(): Promise<void> {
    const rows = await this.prisma.key.findMany({ select: PUBLIC_FIELDS, orderBy: { createdAt: 'asc' } });
    const records = new Map<string, KeyRecord>();
    for (const r of rows) records.set(r.kid, { ...r, publicKey: new Uint8Array(r.publicKey) });
    const signers = new Map<KeyPurpose, Signer>();
    for (const purpose of KEY_PURPOSES) {
      const active = rows.find((r) => r.purpose === purpose && r.status === 'active');
      if (active) signers.set(purpose, await this.signerOf(active.kid, purpose));
    }
    this.records = records;
    this.signers = signers;
    this.onReload?.();
  }

  /**
   * Reloads now, for a caller that met a kid it does not know (a key another instance created
   * moments ago, before the state poll): one reload at a time, and at most one per
   * `minIntervalMs`, so unknown kids sent on purpose cannot turn into a query per request.
   */
  async refresh(minIntervalMs = 100): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (performance.now() - this.refreshedAt < minIntervalMs) return;
    this.refreshedAt = performance.now();
    this.refreshing = this.reload().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  signer(purpose: KeyPurpose): Signer {
    const signer = this.signers.get(purpose);
    if (!signer) throw new ModelsignError('key_unavailable', `no active ${purpose} key is loaded`);
    return signer;
  }

  hasSigner(purpose: KeyPurpose): boolean {
    return this.signers.has(purpose);
  }

  list(): KeyRecord[] {
    return [...this.records.values()];
  }

  get(kid: string): KeyRecord | undefined {
    return this.records.get(kid);
  }

  trusted(kid: string): TrustedKey | undefined {
    const r = this.records.get(kid);
    return r && { kid: r.kid, publicKey: r.publicKey, purpose: r.purpose, status: r.status, compromisedAt: r.compromisedAt };
  }

  /**
   * Makes a new key active and retires the active one, in one transaction. A pending key of the
   * purpose (published ahead by the schedule) is the one activated; otherwise a new key is made.
   * With `expectedActive`, rotates only if that is still the active key (409 otherwise), so two
   * admins (or instances) acting on the same view rotate once.
   */
  async rotate(purpose: KeyPurpose, actor: string, options: { expectedActive?: string | undefined } = {}): Promise<{ previous: KeyRecord; active: KeyRecord }> {
    const result = await this.change(async (tx, now) => {
      const current = await tx.key.findFirst({ where: { purpose, status: 'active' }, select: { kid: true } });
      if (!current) throw new ModelsignError('key_unavailable', `no active ${purpose} key`);
      if (options.expectedActive !== undefined && options.expectedActive !== current.kid) {
        throw new ModelsignError('rotation_conflict', `the active ${purpose} key is ${current.kid}, not ${options.expectedActive}: it was rotated meanwhile`);
      }
      const active = await this.activateNext(tx, purpose, current.kid, now, actor, 'manual');
      return { previous: current.kid, active };
    });
    await this.reload();
    return { previous: this.records.get(result.previous)!, active: this.records.get(result.active)! };
  }

  /**
   * Revokes a key: signatures it made stay valid only where the transparency log proves they
   * were logged before `compromisedAt`. Revoking the active key activates a replacement in the
   * same transaction, so signing never stops.
   */
  async revoke(kid: string, input: { compromisedAt: Date; reason: string }, actor: string): Promise<{ revoked: KeyRecord; replacement: KeyRecord | null }> {
    const result = await this.change(async (tx, now) => {
      const key = await tx.key.findUnique({ where: { kid }, select: { kid: true, purpose: true, status: true, createdAt: true } });
      if (!key) throw new ModelsignError('not_found', `no key with kid ${JSON.stringify(kid)}`);
      if (key.status === 'revoked') throw new ModelsignError('key_already_revoked', `key ${kid} is already revoked`);
      if (input.compromisedAt.getTime() > now.getTime()) {
        throw new ModelsignError('invalid_compromise_time', `compromisedAt ${input.compromisedAt.toISOString()} is in the future (now ${now.toISOString()})`);
      }
      if (input.compromisedAt.getTime() < key.createdAt.getTime()) {
        throw new ModelsignError('invalid_compromise_time', `compromisedAt ${input.compromisedAt.toISOString()} is before key ${kid} existed (${key.createdAt.toISOString()})`);
      }
      let replacement: string | null = null;
      if (key.status === 'active') replacement = await this.activateNext(tx, key.purpose, kid, now, actor, 'revocation');
      await tx.key.update({ where: { kid }, data: { status: 'revoked', revokedAt: now, compromisedAt: input.compromisedAt, reason: input.reason, activatesAt: null } });
      await recordAudit(tx, {
        actor,
        action: 'key.revoke',
        target: `key:${kid}`,
        details: { purpose: key.purpose, compromisedAt: input.compromisedAt.toISOString(), reason: input.reason, replacement },
        at: now,
      });
      return { replacement };
    });
    await this.reload();
    return { revoked: this.records.get(kid)!, replacement: result.replacement ? this.records.get(result.replacement)! : null };
  }

  /**
   * Scheduled rotation: publishes the next key as pending `prepublishMs` before the active one
   * is due, and activates it when due. Idempotent; every instance runs it, the lock makes one act.
   */
  async runSchedule(): Promise<void> {
    const due = Object.entries(this.schedule.every) as [KeyPurpose, number][];
    // Every instance runs this every second: decide from the keys it holds whether anything can
    // be due, and take the lock (a transaction) only then; the transaction decides again.
    const now = this.clock.now().getTime();
    const mayAct = due.some(([purpose, every]) => {
      const active = this.list().find((k) => k.purpose === purpose && k.status === 'active');
      const pending = this.list().find((k) => k.purpose === purpose && k.status === 'pending');
      if (!active) return false;
      if (pending) return pending.activatesAt !== null && pending.activatesAt.getTime() <= now;
      return now >= (active.activatedAt ?? new Date(now)).getTime() + every - this.schedule.prepublishMs;
    });
    if (!mayAct) return;
    const changed = await this.change(async (tx, now) => {
      let any = false;
      for (const [purpose, every] of due) {
        const keys = await tx.key.findMany({ where: { purpose, status: { in: ['active', 'pending'] } }, select: { kid: true, status: true, activatedAt: true, activatesAt: true } });
        const active = keys.find((k) => k.status === 'active');
        const pending = keys.find((k) => k.status === 'pending');
        if (!active) continue;
        const dueAt = (active.activatedAt ?? now).getTime() + every;
        if (pending && pending.activatesAt && pending.activatesAt.getTime() <= now.getTime()) {
          await this.activateNext(tx, purpose, active.kid, now, 'system', 'scheduled');
          any = true;
        } else if (!pending && now.getTime() >= dueAt - this.schedule.prepublishMs) {
          await this.createKey(tx, purpose, 'pending', now, 'system', new Date(Math.max(dueAt, now.getTime())));
          any = true;
        }
      }
      return any;
    });
    if (changed) await this.reload();
  }

  /** The rotation chain of release and log keys, as clients verify it (core/key-chain.ts). */
  async chain(): Promise<ChainDocument> {
    const links = await this.prisma.keyLink.findMany({ orderBy: { seq: 'asc' } });
    return {
      keys: this.list().filter((k) => k.purpose !== 'token').map(chainKey),
      links: links.map((l) => ({
        seq: Number(l.seq),
        purpose: l.purpose,
        signer: l.signerKid,
        kid: l.kid,
        createdAt: l.createdAt,
        envelope: { payloadType: KEY_LINK_PAYLOAD_TYPE, payload: toBase64(l.payload), signatures: [{ keyid: l.signerKid, sig: toBase64(l.signature) }] },
      })),
    };
  }

  /**
   * Re-encrypts every private key under `next` in one transaction; the rows are locked, so a
   * concurrent rotation waits. Instances keep signing with the keys they hold in memory; they
   * must be restarted with the new KEK before they can load or create keys again.
   */
  async rewrap(next: Kek, actor: string): Promise<number> {
    const count = await this.change(async (tx, now) => {
      const rows = await tx.$queryRawUnsafe<{ kid: string; private_key_ct: Uint8Array; kek_id: string }[]>('SELECT "kid", "private_key_ct", "kek_id" FROM "keys" ORDER BY "kid" FOR UPDATE');
      for (const row of rows) {
        if (row.kek_id !== this.kek.id && row.kek_id !== next.id) {
          throw new ModelsignError('kek_mismatch', `key ${row.kid} is wrapped under KEK ${row.kek_id}, neither the current (${this.kek.id}) nor the new one`);
        }
        if (row.kek_id === next.id) continue;
        const seed = unwrapKey(this.kek, row.kid, new Uint8Array(row.private_key_ct));
        try {
          await tx.key.update({ where: { kid: row.kid }, data: { privateKeyCt: new Uint8Array(wrapKey(next, row.kid, seed)), kekId: next.id } });
        } finally {
          seed.fill(0);
        }
      }
      await recordAudit(tx, { actor, action: 'kek.rewrap', target: `kek:${next.id}`, details: { keys: rows.length, previous: this.kek.id }, at: now });
      return rows.length;
    });
    this.kek = next;
    return count;
  }

  /** Runs a key change under the keys lock; bumps the state epoch when `fn` says it changed something. */
  private async change<T>(fn: (tx: Tx, now: Date) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`);
      const result = await fn(tx, this.clock.now());
      if (result !== false) await bumpStateEpoch(tx);
      return result;
    });
  }

  /** Activates the pending key of `purpose` (or a new one) and retires `current`; returns the new kid. */
  private async activateNext(tx: Tx, purpose: KeyPurpose, current: string, now: Date, actor: string, why: 'manual' | 'scheduled' | 'revocation'): Promise<string> {
    const pending = await tx.key.findFirst({ where: { purpose, status: 'pending' }, select: { kid: true } });
    // A new key is made pending first, so that its link is signed while `current` is still the
    // active release key. When `current` is being revoked the link is signed by a compromised
    // key; clients refuse links from revoked keys (core/key-chain.ts) and must re-pin.
    const next = pending?.kid ?? (await this.createKey(tx, purpose, 'pending', now, actor, null));
    await tx.key.update({ where: { kid: current }, data: { status: 'retired', retiredAt: now } });
    await tx.key.update({ where: { kid: next }, data: { status: 'active', activatedAt: now, activatesAt: null } });
    await recordAudit(tx, { actor, action: 'key.rotate', target: `key:${next}`, details: { purpose, previous: current, reason: why }, at: now });
    return next;
  }

  private async createKey(tx: Tx, purpose: KeyPurpose, status: 'active' | 'pending', now: Date, actor: string, activatesAt: Date | null): Promise<string> {
    // After `admin rewrap`, an instance still holding the old KEK must not add keys under it.
    const foreign = await tx.key.findFirst({ where: { NOT: { kekId: this.kek.id } }, select: { kekId: true } });
    if (foreign) throw new ModelsignError('kek_mismatch', `stored keys are wrapped under KEK ${foreign.kekId}, this instance holds ${this.kek.id}: restart it with the current KEK`);
    const seed = generateSeed();
    let kid: string;
    let publicKey: Uint8Array;
    try {
      publicKey = publicKeyOf(privateKeyFromSeed(seed));
      kid = keyIdOf(publicKey);
      await tx.key.create({
        data: {
          kid,
          purpose,
          publicKey: new Uint8Array(publicKey),
          privateKeyCt: new Uint8Array(wrapKey(this.kek, kid, seed)),
          kekId: this.kek.id,
          status,
          createdAt: now,
          activatedAt: status === 'active' ? now : null,
          activatesAt,
        },
      });
    } finally {
      seed.fill(0);
    }
    await recordAudit(tx, { actor, action: activatesAt ? 'key.prepublish' : 'key.create', target: `key:${kid}`, details: { purpose, status, ...(activatesAt ? { activatesAt: activatesAt.toISOString() } : {}) }, at: now });
    if (purpose === 'release' || purpose === 'log') await this.link(tx, purpose, kid, publicKey, now);
    return kid;
  }

  /** Signs the statement introducing a release or log key with the release key active now. */
  private async link(tx: Tx, purpose: 'release' | 'log', kid: string, publicKey: Uint8Array, now: Date): Promise<void> {
    const signerRow = await tx.key.findFirst({ where: { purpose: 'release', status: 'active', NOT: { kid } }, select: { kid: true, publicKey: true, privateKeyCt: true } });
    // The very first release key has nobody to introduce it: clients pin it.
    if (!signerRow) return;
    const seed = unwrapKey(this.kek, signerRow.kid, signerRow.privateKeyCt);
    let signature: Uint8Array;
    const payload = encodeKeyLink({ purpose, signer: new Uint8Array(signerRow.publicKey), key: publicKey, createdAt: now });
    try {
      signature = nodeSign(preAuthEncoding(KEY_LINK_PAYLOAD_TYPE, payload), privateKeyFromSeed(seed));
    } finally {
      seed.fill(0);
    }
    await tx.keyLink.create({ data: { purpose, signerKid: signerRow.kid, kid, payload: new Uint8Array(payload), signature: new Uint8Array(signature), createdAt: now } });
  }

  private async signerOf(kid: string, purpose: KeyPurpose): Promise<Signer> {
    const known = this.loaded.get(kid);
    if (known) return known;
    const row = await this.prisma.key.findUniqueOrThrow({ where: { kid }, select: { privateKeyCt: true, publicKey: true } });
    const seed = unwrapKey(this.kek, kid, row.privateKeyCt);
    let privateKey: KeyObject;
    try {
      privateKey = privateKeyFromSeed(seed);
    } finally {
      seed.fill(0);
    }
    // A row whose ciphertext belongs to another key must never sign under this kid.
    if (keyIdOf(publicKeyOf(privateKey)) !== kid) {
      throw new ModelsignError('kek_mismatch', `the stored private key of ${kid} does not match its public key`);
    }
    const signer = { kid, purpose, sign: (message: Uint8Array) => nodeSign(message, privateKey) };
    this.loaded.set(kid, signer);
    return signer;
  }
}
