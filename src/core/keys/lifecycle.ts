// The key lifecycle as pure rules: which status changes are allowed and what they record, what
// a rotation or a revocation must check first, and what scheduled rotation makes due at a given
// time. The key service (src/services/keys.ts) reads the rows under its lock, asks these rules,
// and persists what they return; nothing here touches a database or a clock (`now` is given).
// The narrative is docs/design/keys.md.
//
//   pending ──activate──▶ active ──retire──▶ retired
//      └──────────────┴─────revoke────────────┴──▶ revoked
import type { AlgorithmId } from '../crypto/algorithm.ts';
import { ALGORITHM_IDS, DEFAULT_ALGORITHM } from '../crypto/registry.ts';
import { ModelsignError } from '../errors.ts';
import type { KeyPurpose, KeyRecord, KeyStatus } from './key.ts';

/** What the rules need to know of a key. */
export type KeyState = Pick<KeyRecord, 'kid' | 'purpose' | 'algorithm' | 'status' | 'createdAt' | 'activatedAt' | 'activatesAt'>;

/**
 * A place for one active key: a purpose, and for release keys an algorithm (namespaces choose
 * which signs their releases). Log and token keys are Ed25519, what C2SP notes and the tokens'
 * EdDSA need.
 */
export interface KeySlot {
  purpose: KeyPurpose;
  algorithm: AlgorithmId;
}

/** Every slot, the default release key first: it signs the links introducing the others. */
export const KEY_SLOTS: readonly KeySlot[] = [
  { purpose: 'release', algorithm: DEFAULT_ALGORITHM },
  ...ALGORITHM_IDS.filter((a) => a !== DEFAULT_ALGORITHM).map((algorithm) => ({ purpose: 'release' as const, algorithm })),
  { purpose: 'log', algorithm: DEFAULT_ALGORITHM },
  { purpose: 'token', algorithm: DEFAULT_ALGORITHM },
];

/** The one slot of a witness (`modelsign witness`): an Ed25519 key for cosignature/v1, never rotated on a schedule. */
export const WITNESS_SLOT: KeySlot = { purpose: 'witness', algorithm: DEFAULT_ALGORITHM };

export const slotName = (slot: KeySlot): string => (slot.purpose === 'release' ? `${slot.purpose} (${slot.algorithm})` : slot.purpose);

const inSlot = (slot: KeySlot) => (k: Pick<KeyState, 'purpose' | 'algorithm'>) => k.purpose === slot.purpose && k.algorithm === slot.algorithm;

const TRANSITIONS: Readonly<Record<KeyStatus, readonly KeyStatus[]>> = {
  pending: ['active', 'revoked'],
  active: ['retired', 'revoked'],
  retired: ['revoked'],
  revoked: [],
};

export function canTransition(from: KeyStatus, to: KeyStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The columns a status change sets. */
export type KeyChange =
  | { status: 'active'; activatedAt: Date; activatesAt: null }
  | { status: 'retired'; retiredAt: Date }
  | { status: 'revoked'; revokedAt: Date; compromisedAt: Date; reason: string; activatesAt: null };

export type Revocation = { compromisedAt: Date; reason: string };

/** The change that moves `key` to `to` at `now`; throws when the lifecycle does not allow it. */
export function transition(key: Pick<KeyState, 'kid' | 'status'>, to: 'active' | 'retired', now: Date): KeyChange;
export function transition(key: Pick<KeyState, 'kid' | 'status'>, to: 'revoked', now: Date, revocation: Revocation): KeyChange;
export function transition(key: Pick<KeyState, 'kid' | 'status'>, to: 'active' | 'retired' | 'revoked', now: Date, revocation?: Revocation): KeyChange {
  if (key.status === 'revoked') throw new ModelsignError('key_already_revoked', `key ${key.kid} is already revoked`);
  if (!canTransition(key.status, to)) throw new ModelsignError('internal_error', `key ${key.kid} cannot go from ${key.status} to ${to}`);
  if (to === 'active') return { status: 'active', activatedAt: now, activatesAt: null };
  if (to === 'retired') return { status: 'retired', retiredAt: now };
  return { status: 'revoked', revokedAt: now, compromisedAt: revocation!.compromisedAt, reason: revocation!.reason, activatesAt: null };
}

/** Slots (the service's, unless others are named) without an active key, in their order. */
export function missingSlots(keys: readonly Pick<KeyState, 'purpose' | 'algorithm' | 'status'>[], slots: readonly KeySlot[] = KEY_SLOTS): KeySlot[] {
  return slots.filter((slot) => !keys.some((k) => inSlot(slot)(k) && k.status === 'active'));
}

export interface RotationPlan {
  /** The active key, to retire. */
  current: string;
  /** The pending key to activate, or null when a new key must be made. */
  pending: string | null;
}

/**
 * A rotation of a slot: the pending key (published ahead by the schedule) is activated if there
 * is one, otherwise a new key. With `expectedActive`, only if that is still the active key, so
 * two admins (or instances) acting on the same view rotate once.
 */
export function planRotation(keys: readonly KeyState[], slot: KeySlot, expectedActive?: string): RotationPlan {
  const current = keys.find((k) => inSlot(slot)(k) && k.status === 'active');
  if (!current) throw new ModelsignError('key_unavailable', `no active ${slotName(slot)} key`);
  if (expectedActive !== undefined && expectedActive !== current.kid) {
    throw new ModelsignError('rotation_conflict', `the active ${slotName(slot)} key is ${current.kid}, not ${expectedActive}: it was rotated meanwhile`);
  }
  return { current: current.kid, pending: keys.find((k) => inSlot(slot)(k) && k.status === 'pending')?.kid ?? null };
}

/**
 * Checks a revocation of `kid` at `now`: the key exists, is not revoked yet, and `compromisedAt`
 * lies between its creation and now. Returns whether a replacement must be activated (the key
 * is the active one: signing must not stop).
 */
export function planRevocation(key: KeyState | undefined, kid: string, compromisedAt: Date, now: Date): { replace: boolean } {
  if (!key) throw new ModelsignError('not_found', `no key with kid ${JSON.stringify(kid)}`);
  if (key.status === 'revoked') throw new ModelsignError('key_already_revoked', `key ${kid} is already revoked`);
  if (compromisedAt.getTime() > now.getTime()) {
    throw new ModelsignError('invalid_compromise_time', `compromisedAt ${compromisedAt.toISOString()} is in the future (now ${now.toISOString()})`);
  }
  if (compromisedAt.getTime() < key.createdAt.getTime()) {
    throw new ModelsignError('invalid_compromise_time', `compromisedAt ${compromisedAt.toISOString()} is before key ${kid} existed (${key.createdAt.toISOString()})`);
  }
  return { replace: key.status === 'active' };
}

export interface RotationSchedule {
  /** Rotation period per purpose (release keys of every algorithm alike), in milliseconds; a purpose without one rotates only on request. */
  every: Partial<Record<KeyPurpose, number>>;
  /** How long before activation the next key is published as pending. */
  prepublishMs: number;
}

export type ScheduledAction =
  /** The pending key's time has come: activate it, retire `current`. */
  | { kind: 'activate'; slot: KeySlot; current: string; pending: string }
  /** The active key is due within the prepublish window: publish its successor as pending. */
  | { kind: 'prepublish'; slot: KeySlot; activatesAt: Date };

/**
 * What the schedule makes due at `now`. A key is due `every` after its activation; its successor
 * is published `prepublishMs` before that (at once if that moment has passed) and activated when
 * its activatesAt arrives. Empty when nothing is due, which is almost always.
 */
export function scheduledActions(keys: readonly KeyState[], schedule: RotationSchedule, now: Date): ScheduledAction[] {
  const actions: ScheduledAction[] = [];
  for (const slot of KEY_SLOTS) {
    const every = schedule.every[slot.purpose];
    if (every === undefined) continue;
    const active = keys.find((k) => inSlot(slot)(k) && k.status === 'active');
    const pending = keys.find((k) => inSlot(slot)(k) && k.status === 'pending');
    if (!active) continue;
    const dueAt = (active.activatedAt ?? now).getTime() + every;
    if (pending) {
      if (pending.activatesAt !== null && pending.activatesAt.getTime() <= now.getTime()) actions.push({ kind: 'activate', slot, current: active.kid, pending: pending.kid });
    } else if (now.getTime() >= dueAt - schedule.prepublishMs) {
      actions.push({ kind: 'prepublish', slot, activatesAt: new Date(Math.max(dueAt, now.getTime())) });
    }
  }
  return actions;
}
