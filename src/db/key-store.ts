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

/** A private half AES-256-GCM-encrypted in the row, under the KEK named by kekId. */
export interface KekMaterial {
  kind: 'kek';
  privateKeyCt: Uint8Array;
  kekId: string;
}

/** A private half that is a non-extractable object in a PKCS#11 token: the row only names it. */
export interface TokenMaterial {
  kind: 'pkcs11';
  /** The object's CKA_ID. */
  objectId: Uint8Array;
  /** The object's CKA_LABEL. */
  label: string;
  /** The label of the token it was made in. */
  token: string;
}

/** The private half of a key as its row keeps it. */
export type StoredKeyMaterial = KekMaterial | TokenMaterial;

const MATERIAL_FIELDS = { privateKeyCt: true, kekId: true, pkcs11Id: true, pkcs11Label: true, pkcs11Token: true } as const;

function materialOf(row: { kid: string; privateKeyCt: Uint8Array | null; kekId: string | null; pkcs11Id: Uint8Array | null; pkcs11Label: string | null; pkcs11Token: string | null }): StoredKeyMaterial {
  if (row.privateKeyCt && row.kekId) return { kind: 'kek', privateKeyCt: new Uint8Array(row.privateKeyCt), kekId: row.kekId };
  if (row.pkcs11Id && row.pkcs11Label !== null && row.pkcs11Token !== null) return { kind: 'pkcs11', objectId: new Uint8Array(row.pkcs11Id), label: row.pkcs11Label, token: row.pkcs11Token };
  // The keys_private_half constraint makes this unreachable.
  throw new Error(`key ${row.kid} has no private half`);
}

function materialColumns(material: StoredKeyMaterial) {
  return material.kind === 'kek'
    ? { privateKeyCt: new Uint8Array(material.privateKeyCt), kekId: material.kekId, pkcs11Id: null, pkcs11Label: null, pkcs11Token: null }
    : { privateKeyCt: null, kekId: null, pkcs11Id: new Uint8Array(material.objectId), pkcs11Label: material.label, pkcs11Token: material.token };
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
  const row = await tx.key.findUnique({ where: { kid }, select: { kid: true, algorithm: true, publicKey: true, ...MATERIAL_FIELDS } });
  return row ? { key: { algorithm: algorithmOf(row.algorithm).id, publicKey: new Uint8Array(row.publicKey) }, material: materialOf(row) } : undefined;
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
      ...materialColumns(key.material),
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
  const rows = await tx.$queryRawUnsafe<{ kid: string; private_key_ct: Uint8Array | null; kek_id: string | null; pkcs11_id: Uint8Array | null; pkcs11_label: string | null; pkcs11_token: string | null }[]>(
    'SELECT "kid", "private_key_ct", "kek_id", "pkcs11_id", "pkcs11_label", "pkcs11_token" FROM "keys" ORDER BY "kid" FOR UPDATE',
  );
  return rows.map((r) => ({ kid: r.kid, ...materialOf({ kid: r.kid, privateKeyCt: r.private_key_ct, kekId: r.kek_id, pkcs11Id: r.pkcs11_id, pkcs11Label: r.pkcs11_label, pkcs11Token: r.pkcs11_token }) }));
}

export async function updateKeyMaterial(tx: Tx, kid: string, material: StoredKeyMaterial): Promise<void> {
  await tx.key.update({ where: { kid }, data: materialColumns(material) });
}

/** The KEK id of some key wrapped under another KEK than `kekId`, if any (token-held keys have none). */
export async function foreignKekId(tx: Tx, kekId: string): Promise<string | undefined> {
  return (await tx.key.findFirst({ where: { kekId: { not: null }, NOT: { kekId } }, select: { kekId: true } }))?.kekId ?? undefined;
}

/**
 * Token-held keys whose objects are still to be destroyed: revoked ones, and ones retired before
 * `retiredBefore`.
 */
export async function tokenKeysToDestroy(tx: Tx, retiredBefore: Date): Promise<{ kid: string; material: TokenMaterial }[]> {
  const rows = await tx.key.findMany({
    where: { pkcs11Id: { not: null }, destroyedAt: null, OR: [{ status: 'revoked' }, { status: 'retired', retiredAt: { lt: retiredBefore } }] },
    select: { kid: true, ...MATERIAL_FIELDS },
  });
  return rows.map((r) => ({ kid: r.kid, material: materialOf(r) as TokenMaterial }));
}

export async function markDestroyed(tx: Tx, kid: string, at: Date): Promise<void> {
  await tx.key.update({ where: { kid }, data: { destroyedAt: at } });
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
