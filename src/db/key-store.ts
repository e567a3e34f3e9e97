// The keys and key_links tables. Key changes run in one transaction under KEYS_LOCK (taken by
// lockKeys), so instances asked at the same moment serialise; partial unique indexes (keys
// migrations) keep one active and one pending key per purpose and algorithm whatever the code does.
import type { AlgorithmId } from '../core/crypto/algorithm.ts';
import { algorithmOf } from '../core/crypto/registry.ts';
import type { KeyLink, KeyPurpose, KeyRecord, KeyStatus, PublicKey } from '../core/keys/key.ts';
import type { KeyChange, KeyState } from '../core/keys/lifecycle.ts';
import type { Tx } from './client.ts';

// Serialises key changes across instances (pg_advisory_xact_lock key).
const KEYS_LOCK = '7243043470021519618';

const RECORD_FIELDS = {
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

const STATE_FIELDS = { kid: true, purpose: true, algorithm: true, status: true, createdAt: true, activatedAt: true, activatesAt: true } as const;

/** The private half of a key as a row keeps it: AES-256-GCM ciphertext under the KEK named by kekId. */
export interface StoredKeyMaterial {
  privateKeyCt: Uint8Array;
  kekId: string;
}

/** Takes the keys lock until the transaction ends. */
export async function lockKeys(tx: Tx): Promise<void> {
  await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`);
}

/** Every key, oldest first, without private material. */
export async function listKeyRecords(session: Tx): Promise<KeyRecord[]> {
  // Keys made in one transaction share a time: the default algorithm's first, as KEY_SLOTS makes them.
  const rows = await session.key.findMany({ select: RECORD_FIELDS, orderBy: [{ createdAt: 'asc' }, { algorithm: 'desc' }, { purpose: 'asc' }] });
  // A row of an algorithm this version does not know stops the load rather than being misread.
  return rows.map((r) => ({ ...r, algorithm: algorithmOf(r.algorithm).id, publicKey: new Uint8Array(r.publicKey) }));
}

/** The lifecycle facts of keys, optionally of one purpose and some statuses. */
export async function keyStates(tx: Tx, filter: { purpose?: KeyPurpose; statuses?: KeyStatus[] } = {}): Promise<KeyState[]> {
  const rows = await tx.key.findMany({
    where: { ...(filter.purpose ? { purpose: filter.purpose } : {}), ...(filter.statuses ? { status: { in: filter.statuses } } : {}) },
    select: STATE_FIELDS,
  });
  return rows.map((r) => ({ ...r, algorithm: algorithmOf(r.algorithm).id }));
}

export async function findKeyState(tx: Tx, kid: string): Promise<KeyState | undefined> {
  const row = await tx.key.findUnique({ where: { kid }, select: STATE_FIELDS });
  return row ? { ...row, algorithm: algorithmOf(row.algorithm).id } : undefined;
}

/** One key's public half and stored private material, in one read (what a backend loads a signer from). */
export async function storedKey(tx: Tx, kid: string): Promise<{ key: PublicKey; material: StoredKeyMaterial } | undefined> {
  const row = await tx.key.findUnique({ where: { kid }, select: { algorithm: true, publicKey: true, privateKeyCt: true, kekId: true } });
  return row
    ? { key: { algorithm: algorithmOf(row.algorithm).id, publicKey: new Uint8Array(row.publicKey) }, material: { privateKeyCt: new Uint8Array(row.privateKeyCt), kekId: row.kekId } }
    : undefined;
}

export interface NewKeyRow {
  kid: string;
  purpose: KeyPurpose;
  algorithm: AlgorithmId;
  publicKey: Uint8Array;
  material: StoredKeyMaterial;
  status: 'active' | 'pending';
  createdAt: Date;
  activatesAt: Date | null;
}

export async function insertKey(tx: Tx, key: NewKeyRow): Promise<void> {
  await tx.key.create({
    data: {
      kid: key.kid,
      purpose: key.purpose,
      algorithm: key.algorithm,
      publicKey: new Uint8Array(key.publicKey),
      privateKeyCt: new Uint8Array(key.material.privateKeyCt),
      kekId: key.material.kekId,
      status: key.status,
      createdAt: key.createdAt,
      activatedAt: key.status === 'active' ? key.createdAt : null,
      activatesAt: key.activatesAt,
    },
  });
}

/** Persists a lifecycle change (core/keys/lifecycle.ts `transition`). */
export async function applyKeyChange(tx: Tx, kid: string, change: KeyChange): Promise<void> {
  await tx.key.update({ where: { kid }, data: change });
}

/** Every key's material, locked until the transaction ends (a concurrent change waits). */
export async function lockAllKeyMaterial(tx: Tx): Promise<({ kid: string } & StoredKeyMaterial)[]> {
  const rows = await tx.$queryRawUnsafe<{ kid: string; private_key_ct: Uint8Array; kek_id: string }[]>('SELECT "kid", "private_key_ct", "kek_id" FROM "keys" ORDER BY "kid" FOR UPDATE');
  return rows.map((r) => ({ kid: r.kid, privateKeyCt: new Uint8Array(r.private_key_ct), kekId: r.kek_id }));
}

export async function updateKeyMaterial(tx: Tx, kid: string, material: StoredKeyMaterial): Promise<void> {
  await tx.key.update({ where: { kid }, data: { privateKeyCt: new Uint8Array(material.privateKeyCt), kekId: material.kekId } });
}

/** The KEK id of some key wrapped under another KEK than `kekId`, if any. */
export async function foreignKekId(tx: Tx, kekId: string): Promise<string | undefined> {
  return (await tx.key.findFirst({ where: { NOT: { kekId } }, select: { kekId: true } }))?.kekId;
}

export type KeyLinkRow = KeyLink;

export async function insertKeyLink(tx: Tx, link: Omit<KeyLinkRow, 'seq'>): Promise<void> {
  await tx.keyLink.create({ data: { ...link, payload: new Uint8Array(link.payload), signature: new Uint8Array(link.signature) } });
}

export async function hasKeyLink(tx: Tx, kid: string): Promise<boolean> {
  return (await tx.keyLink.findUnique({ where: { kid }, select: { kid: true } })) !== null;
}

export async function listKeyLinks(session: Tx): Promise<KeyLinkRow[]> {
  const rows = await session.keyLink.findMany({ orderBy: { seq: 'asc' } });
  return rows.map((l) => ({ ...l, seq: Number(l.seq), payload: new Uint8Array(l.payload), signature: new Uint8Array(l.signature) }));
}
