// Signing keys: created on first start (one active key per purpose), stored with the private half
// encrypted under the KEK, and held in memory as KeyObjects for signing. Every instance keeps a
// copy of the public records and reloads it when another instance changes keys (state-watcher).
import type { KeyObject } from 'node:crypto';
import { ModelsignError } from '../core/errors.ts';
import { keyIdOf } from '../core/public-key.ts';
import type { KeyPurpose, KeyStatus } from '../core/verdict.ts';
import type { TrustedKey } from '../core/verify-bundle.ts';
import type { PrismaClient } from '../db/client.ts';
import type { Clock } from './clock.ts';
import { unwrapKey, wrapKey, type Kek } from './key-wrap.ts';
import { generateSeed, nodeSign, privateKeyFromSeed, publicKeyOf } from './node-ed25519.ts';
import { bumpStateEpoch } from './state-epoch.ts';

export const KEY_PURPOSES: readonly KeyPurpose[] = ['release', 'log', 'token'];

// Serialises key creation across instances starting together against one database.
const KEYS_LOCK = '7243043470021519618';

export interface KeyRecord {
  kid: string;
  purpose: KeyPurpose;
  algorithm: string;
  publicKey: Uint8Array;
  status: KeyStatus;
  createdAt: Date;
  activatedAt: Date | null;
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

const PUBLIC_FIELDS = {
  kid: true,
  purpose: true,
  algorithm: true,
  publicKey: true,
  status: true,
  createdAt: true,
  activatedAt: true,
  retiredAt: true,
  revokedAt: true,
  compromisedAt: true,
  reason: true,
} as const;

export class KeyService {
  private records = new Map<string, KeyRecord>();
  private signers = new Map<KeyPurpose, Signer>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly kek: Kek,
    private readonly clock: Clock,
  ) {}

  /** Creates the missing active keys, then loads every key. Safe to run on many instances at once. */
  async start(): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`);
      const active = await tx.key.findMany({ where: { status: 'active' }, select: { purpose: true } });
      const missing = KEY_PURPOSES.filter((p) => !active.some((k) => k.purpose === p));
      for (const purpose of missing) {
        const now = this.clock.now();
        const { kid, publicKey, ciphertext } = this.newKey();
        await tx.key.create({
          data: { kid, purpose, publicKey: new Uint8Array(publicKey), privateKeyCt: new Uint8Array(ciphertext), kekId: this.kek.id, status: 'active', createdAt: now, activatedAt: now },
        });
        await tx.auditEvent.create({ data: { actor: 'system', action: 'key.create', target: `key:${kid}`, details: { purpose }, at: now } });
      }
      if (missing.length > 0) await bumpStateEpoch(tx);
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
      if (!active) continue;
      const current = this.signers.get(purpose);
      signers.set(purpose, current?.kid === active.kid ? current : await this.loadSigner(active.kid, purpose));
    }
    this.records = records;
    this.signers = signers;
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
    return r && { kid: r.kid, publicKey: r.publicKey, purpose: r.purpose, status: r.status };
  }

  private newKey(): { kid: string; publicKey: Uint8Array; ciphertext: Uint8Array } {
    const seed = generateSeed();
    try {
      const publicKey = publicKeyOf(privateKeyFromSeed(seed));
      const kid = keyIdOf(publicKey);
      return { kid, publicKey, ciphertext: wrapKey(this.kek, kid, seed) };
    } finally {
      seed.fill(0);
    }
  }

  private async loadSigner(kid: string, purpose: KeyPurpose): Promise<Signer> {
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
    return { kid, purpose, sign: (message) => nodeSign(message, privateKey) };
  }
}
