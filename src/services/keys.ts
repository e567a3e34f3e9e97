// The key service: orchestrates key changes and keeps this instance's view of the keys. The
// rules (which transitions are allowed, what a rotation or revocation checks, what the schedule
// makes due) are pure, in core/keys/lifecycle.ts; the rows are in db/key-store.ts; where private
// keys live and how they sign is the KeyBackend's business (key-backends/). What is left here is
// the locked transaction each change runs in, and the cache of public records and signers that
// every instance reloads when any instance changes keys (docs/design/keys.md).
import type { AlgorithmId, Signer } from '../core/crypto/algorithm.ts';
import { algorithmOf, DEFAULT_ALGORITHM } from '../core/crypto/registry.ts';
import { preAuthEncoding } from '../core/dsse.ts';
import { ModelsignError } from '../core/errors.ts';
import { encodeKeyLink, KEY_LINK_PAYLOAD_TYPE } from '../core/keys/key-chain.ts';
import { trustedKeyOf, type KeyPurpose, type KeyRecord, type PublicKey, type TrustedKey } from '../core/keys/key.ts';
import {
  KEY_SLOTS,
  missingSlots,
  planRevocation,
  planRotation,
  scheduledActions,
  slotName,
  transition,
  type KeySlot,
  type Revocation,
  type RotationPlan,
  type RotationSchedule,
} from '../core/keys/lifecycle.ts';
import { recordAudit } from '../db/audit-store.ts';
import type { Database, Tx } from '../db/client.ts';
import {
  applyKeyChange,
  findKeyState,
  hasKeyLink,
  insertKey,
  insertKeyLink,
  keyStates,
  listKeyLinks,
  listKeyRecords,
  lockKeys,
  markDestroyed,
  storedKey,
  tokenKeysToDestroy,
  type KeyLinkRow,
  type StoredKeyMaterial,
} from '../db/key-store.ts';
import { bumpStateEpoch } from '../db/state-epoch.ts';
import type { Clock } from './support/clock.ts';
import type { StateChanges } from './state-changes.ts';
import type { KeyBackend, NewKey } from './key-backends/key-backend.ts';
import type { Kek } from './key-backends/kek.ts';
import { singleFlight, type SingleFlight } from './support/periodic.ts';

export interface KeyServiceOptions {
  schedule: RotationSchedule;
  /** Witnesses are configured: the log key changes only by revocation (rotate refuses with log_key_witnessed). */
  logKeyWitnessed?: boolean;
  /** A kid nobody here knows triggers a reload at most this often (config.ts). */
  refreshMinIntervalMs: number;
  /** Where a key that cannot sign here is reported (once per key and process). */
  warn?: (fields: Record<string, unknown>, message: string) => void;
  /** The slots this instance keeps an active key in: the service's (KEY_SLOTS), or a witness's one. */
  slots?: readonly KeySlot[];
}

/** How long a retired key's token object is kept, so instances that have not yet seen the rotation finish what they sign. */
export const RETIRED_OBJECT_GRACE_MS = 3_600_000;

export class KeyService {
  private records = new Map<string, KeyRecord>();
  /** The active key's signer per slot (slotKey). */
  private active = new Map<string, Signer>();
  /** Every signer this instance has loaded, by kid: a key is decrypted once per process. */
  private signers = new Map<string, Signer>();
  /** Keys reported as unusable here (a token object missing or not the key of its row). */
  private readonly unusable = new Set<string>();
  /** Keys a backend made in each running key transaction: destroyed if it rolls back. */
  private readonly made = new Map<Tx, NewKey[]>();
  private readonly refreshing: SingleFlight<void>;

  constructor(
    private readonly db: Database,
    private readonly backend: KeyBackend,
    private readonly clock: Clock,
    private readonly changes: StateChanges,
    private readonly options: KeyServiceOptions,
  ) {
    // Unknown kids sent on purpose must not turn into a query per request.
    this.refreshing = singleFlight(() => this.reload(), { whileRunning: 'join', minIntervalMs: options.refreshMinIntervalMs });
  }

  /**
   * Reloads now, for a caller that met a kid it does not know (a key another instance created
   * moments ago, before the state poll): joins a reload in progress, and skips when one started
   * less than refreshMinIntervalMs ago.
   */
  async refresh(): Promise<void> {
    await this.refreshing();
  }

  /** Settles once no refresh is in progress (shutdown). */
  idle(): Promise<void> {
    return this.refreshing.idle();
  }

  /** Creates the missing active keys, then loads every key. Safe to run on many instances at once. */
  async start(): Promise<void> {
    await this.inKeysLock(async (tx, now) => {
      const missing = missingSlots(await keyStates(tx, { statuses: ['active'] }), this.slots);
      for (const slot of missing) await this.createKey(tx, slot, { status: 'active', now, actor: 'system', activatesAt: null });
      // A database from before the rotation chain: introduce its log key too.
      const [log] = await keyStates(tx, { purpose: 'log', statuses: ['active'] });
      if (log && !(await hasKeyLink(tx, log.kid))) await this.signIntroduction(tx, 'log', (await storedKey(tx, log.kid))!.key, log.kid, now);
      return missing.length > 0;
    });
    await this.reload();
    await this.reportMisplaced();
  }

  /**
   * After a move to a token: an active key still KEK-wrapped in a slot the token now holds keeps
   * signing (the KEK must stay configured) until a rotation makes its successor in the token.
   */
  private async reportMisplaced(): Promise<void> {
    if (!this.backend.placement) return;
    for (const slot of this.slots) {
      const key = this.list().find((r) => r.purpose === slot.purpose && r.algorithm === slot.algorithm && r.status === 'active');
      if (!key || this.backend.placement(slot) !== 'pkcs11') continue;
      const stored = await storedKey(this.db.prisma, key.kid);
      if (stored?.material.kind === 'kek') {
        const algorithm = slot.purpose === 'release' ? ` --algorithm ${algorithmOf(slot.algorithm).name}` : '';
        this.options.warn?.({ kid: key.kid, slot: slotName(slot) }, `the active ${slotName(slot)} key is KEK-wrapped but new keys of its slot are made in the PKCS#11 token: rotate it to move it there (modelsign admin keys rotate ${slot.purpose}${algorithm})`);
      }
    }
  }

  /** Re-reads the key table; loads an active key's signer only when it is new to this instance. */
  async reload(): Promise<void> {
    const list = await listKeyRecords(this.db.prisma);
    const active = new Map<string, Signer>();
    for (const slot of this.slots) {
      const key = list.find((r) => r.purpose === slot.purpose && r.algorithm === slot.algorithm && r.status === 'active');
      if (!key) continue;
      try {
        active.set(slotKey(slot), await this.signerFor(this.db.prisma, key.kid));
      } catch (err) {
        // A key its backend cannot use leaves its slot without a signer (503 key_unavailable,
        // readiness keys: missing); records, lookups and verification go on.
        if (!(err instanceof ModelsignError && err.code === 'key_unavailable')) throw err;
        if (!this.unusable.has(key.kid)) {
          this.unusable.add(key.kid);
          this.options.warn?.({ kid: key.kid, slot: slotName(slot) }, err.message);
        }
      }
    }
    this.records = new Map(list.map((r) => [r.kid, r]));
    this.active = active;
    await this.changes.publish({ what: 'keys' });
  }

  /** The active key of a purpose (for release keys, of an algorithm: the default unless named). */
  signer(purpose: KeyPurpose, algorithm: AlgorithmId = DEFAULT_ALGORITHM): Signer {
    const slot = { purpose, algorithm };
    const signer = this.active.get(slotKey(slot));
    if (!signer) throw new ModelsignError('key_unavailable', `no active ${slotName(slot)} key is loaded`);
    return signer;
  }

  /** The slots this instance keeps an active key in. */
  get slots(): readonly KeySlot[] {
    return this.options.slots ?? KEY_SLOTS;
  }

  hasSigner(purpose: KeyPurpose, algorithm: AlgorithmId = DEFAULT_ALGORITHM): boolean {
    return this.active.has(slotKey({ purpose, algorithm }));
  }

  /** Whether the key backend can sign now (false while a token is away). */
  backendAvailable(): boolean {
    return this.backend.available?.() ?? true;
  }

  list(): KeyRecord[] {
    return [...this.records.values()];
  }

  get(kid: string): KeyRecord | undefined {
    return this.records.get(kid);
  }

  trusted(kid: string): TrustedKey | undefined {
    const record = this.records.get(kid);
    return record && trustedKeyOf(record);
  }

  /** The log keys, as a verifier trusts them (a Rekor v2 entry names its log key by a derived ID). */
  trustedLogKeys(): TrustedKey[] {
    return this.list().filter((k) => k.purpose === 'log').map(trustedKeyOf);
  }

  /**
   * The public half of a key this service made (a stored signature's or checkpoint's): reloads
   * once for a kid another instance created moments ago; still unknown is a broken invariant.
   */
  async publicKey(kid: string): Promise<PublicKey> {
    if (!this.records.has(kid)) await this.refresh();
    const record = this.records.get(kid);
    if (!record) throw new ModelsignError('internal_error', `no key ${kid} is stored`);
    return { algorithm: record.algorithm, publicKey: record.publicKey };
  }

  /**
   * Makes a new key active and retires the active one, in one transaction (lifecycle.ts,
   * planRotation: a pending key is the one activated; `expectedActive` guards against rotating
   * twice on one view). Release keys rotate per algorithm: the one named, else the algorithm of
   * `expectedActive`, else the default.
   */
  async rotate(
    purpose: KeyPurpose,
    actor: string,
    options: { expectedActive?: string | undefined; algorithm?: AlgorithmId | undefined } = {},
  ): Promise<{ previous: KeyRecord; active: KeyRecord }> {
    if (purpose === 'log' && this.options.logKeyWitnessed) {
      throw new ModelsignError('log_key_witnessed', 'the log key cannot be rotated while witnesses are configured (MODELSIGN_WITNESS_POLICY): witnesses pin it and would refuse every checkpoint signed by another; only a compromise (revocation) replaces it, and that needs a new log (README, "Witnesses")');
    }
    const result = await this.inKeysLock(async (tx, now) => {
      const states = await keyStates(tx, { purpose });
      const expected = options.expectedActive === undefined ? undefined : states.find((k) => k.kid === options.expectedActive);
      const algorithm = options.algorithm ?? expected?.algorithm ?? DEFAULT_ALGORITHM;
      if (purpose !== 'release' && algorithm !== DEFAULT_ALGORITHM) {
        throw new ModelsignError('validation_failed', `${purpose} keys are ${DEFAULT_ALGORITHM}; only release keys come in other algorithms`);
      }
      const slot = { purpose, algorithm };
      if (!this.slots.some((s) => s.purpose === purpose)) {
        throw new ModelsignError('validation_failed', `this ${purpose === 'witness' ? 'service keeps no witness key (a witness key is `modelsign witness`\'s, in its own database)' : `witness keeps no ${purpose} key`}`);
      }
      const plan = planRotation(states, slot, options.expectedActive);
      return { previous: plan.current, active: await this.activateNext(tx, slot, plan, now, actor, 'manual') };
    });
    await this.reload();
    return { previous: this.records.get(result.previous)!, active: this.records.get(result.active)! };
  }

  /**
   * Revokes a key: signatures it made stay valid only where the transparency log proves they
   * were logged before `compromisedAt`. Revoking the active key activates a replacement in the
   * same transaction, so signing never stops.
   */
  async revoke(kid: string, revocation: Revocation, actor: string): Promise<{ revoked: KeyRecord; replacement: KeyRecord | null }> {
    const result = await this.inKeysLock(async (tx, now) => {
      const key = await findKeyState(tx, kid);
      const { replace } = planRevocation(key, kid, revocation.compromisedAt, now);
      const slot = { purpose: key!.purpose, algorithm: key!.algorithm };
      const replacement = replace ? await this.activateNext(tx, slot, planRotation(await keyStates(tx, { purpose: key!.purpose }), slot), now, actor, 'revocation') : null;
      await applyKeyChange(tx, kid, transition(key!, 'revoked', now, revocation));
      await recordAudit(tx, {
        actor,
        action: 'key.revoke',
        target: `key:${kid}`,
        details: { purpose: key!.purpose, algorithm: key!.algorithm, compromisedAt: revocation.compromisedAt.toISOString(), reason: revocation.reason, replacement },
        at: now,
      });
      return { replacement, material: (await storedKey(tx, kid))!.material };
    });
    // Only once the revocation is committed: a key whose object is gone must already be revoked.
    await this.destroyKey(kid, result.material, actor);
    await this.reload();
    return { revoked: this.records.get(kid)!, replacement: result.replacement ? this.records.get(result.replacement)! : null };
  }

  /**
   * Scheduled rotation (lifecycle.ts, scheduledActions). Every instance runs it every second and
   * takes the lock only when the keys it holds say something may be due; the transaction then
   * decides again on the rows, so one instance acts.
   */
  async runSchedule(): Promise<void> {
    if (scheduledActions(this.list(), this.options.schedule, this.clock.now()).length === 0) return;
    const changed = await this.inKeysLock(async (tx, now) => {
      const actions = scheduledActions(await keyStates(tx, { statuses: ['active', 'pending'] }), this.options.schedule, now);
      for (const action of actions) {
        if (action.kind === 'activate') await this.activateNext(tx, action.slot, { current: action.current, pending: action.pending }, now, 'system', 'scheduled');
        else await this.createKey(tx, action.slot, { status: 'pending', now, actor: 'system', activatesAt: action.activatesAt });
      }
      return actions.length > 0;
    });
    if (changed) await this.reload();
  }

  /** The rotation chain's material: release and log keys, and the links introducing them. */
  async chain(): Promise<{ keys: KeyRecord[]; links: KeyLinkRow[] }> {
    return { keys: this.list().filter((k) => k.purpose !== 'token'), links: await listKeyLinks(this.db.prisma) };
  }

  /**
   * Destroys the token objects of revoked keys (left over when the token was away at revocation)
   * and of keys retired more than RETIRED_OBJECT_GRACE_MS ago. Every instance may run it; a key
   * another instance destroyed first is simply found gone.
   */
  async destroyRetired(): Promise<number> {
    if (!this.backend.destroy) return 0;
    const due = await tokenKeysToDestroy(this.db.prisma, new Date(this.clock.now().getTime() - RETIRED_OBJECT_GRACE_MS));
    let destroyed = 0;
    for (const key of due) if (await this.destroyKey(key.kid, key.material, 'system')) destroyed++;
    return destroyed;
  }

  /** Re-protects every KEK-held private key under a new KEK in one transaction (the backend's rewrap); token-held keys are skipped. */
  async rewrap(next: Kek, actor: string): Promise<{ keys: number; skipped: number }> {
    const rewrap = this.backend.rewrap?.bind(this.backend);
    if (!rewrap) throw new ModelsignError('kek_mismatch', 'this key backend keeps no KEK-wrapped keys');
    const result = await this.inKeysLock(async (tx, now) => {
      const done = await rewrap(tx, next);
      await recordAudit(tx, { actor, action: 'kek.rewrap', target: `kek:${next.id}`, details: { keys: done.keys, skipped: done.skipped, previous: done.previous }, at: now });
      return done;
    });
    result.committed();
    return { keys: result.keys, skipped: result.skipped };
  }

  /** Destroys a key's private half in its backend and records it; a failure is reported and retried by destroyRetired. */
  private async destroyKey(kid: string, material: StoredKeyMaterial, actor: string): Promise<boolean> {
    if (!this.backend.destroy || material.kind !== 'pkcs11') return false;
    this.signers.delete(kid);
    try {
      const destroyed = await this.backend.destroy(kid, material);
      // Held in another token (one this instance is not configured with): left for an instance that is.
      if (destroyed === undefined) return false;
      await this.db.prismaTransaction(async (tx) => {
        const now = this.clock.now();
        await markDestroyed(tx, kid, now);
        await recordAudit(tx, { actor, action: 'key.destroy', target: `key:${kid}`, details: { token: material.token, found: destroyed }, at: now });
      });
      return destroyed;
    } catch (err) {
      this.options.warn?.({ kid, err }, 'could not destroy the token object of a revoked or retired key; it is retried every minute');
      return false;
    }
  }

  /** Runs a key change under the keys lock; bumps the state epoch unless `fn` says it changed nothing. */
  private async inKeysLock<T>(fn: (tx: Tx, now: Date) => Promise<T>): Promise<T> {
    const made: NewKey[] = [];
    try {
      return await this.db.prismaTransaction(async (tx) => {
        this.made.set(tx, made);
        try {
          await lockKeys(tx);
          const result = await fn(tx, this.clock.now());
          if (result !== false) await bumpStateEpoch(tx);
          return result;
        } finally {
          this.made.delete(tx);
        }
      });
    } catch (err) {
      // A token object whose row was never committed would be a key nobody can name: remove it.
      for (const key of made) await this.backend.destroy?.(key.kid, key.material).catch(() => false);
      throw err;
    }
  }

  /** Activates the planned pending key (or a new one) and retires the current one; returns the new kid. */
  private async activateNext(tx: Tx, slot: KeySlot, plan: RotationPlan, now: Date, actor: string, why: 'manual' | 'scheduled' | 'revocation'): Promise<string> {
    // A new key is made pending first, so that its link is signed while `current` is still the
    // active release key. When `current` is being revoked the link is signed by a compromised
    // key; clients refuse links from revoked keys (core/keys/key-chain.ts) and must re-pin.
    const next = plan.pending ?? (await this.createKey(tx, slot, { status: 'pending', now, actor, activatesAt: null }));
    await applyKeyChange(tx, plan.current, transition({ kid: plan.current, status: 'active' }, 'retired', now));
    await applyKeyChange(tx, next, transition({ kid: next, status: 'pending' }, 'active', now));
    await recordAudit(tx, { actor, action: 'key.rotate', target: `key:${next}`, details: { purpose: slot.purpose, algorithm: slot.algorithm, previous: plan.current, reason: why }, at: now });
    return next;
  }

  private async createKey(tx: Tx, slot: KeySlot, key: { status: 'active' | 'pending'; now: Date; actor: string; activatesAt: Date | null }): Promise<string> {
    const { purpose, algorithm } = slot;
    const made = await this.backend.generate(tx, slot);
    this.made.get(tx)?.push(made);
    await insertKey(tx, { kid: made.kid, purpose, ...made.publicKey, material: made.material, status: key.status, createdAt: key.now, activatesAt: key.activatesAt });
    await recordAudit(tx, {
      actor: key.actor,
      action: key.activatesAt ? 'key.prepublish' : 'key.create',
      target: `key:${made.kid}`,
      details: { purpose, algorithm, status: key.status, ...(key.activatesAt ? { activatesAt: key.activatesAt.toISOString() } : {}) },
      at: key.now,
    });
    if (purpose === 'release' || purpose === 'log') await this.signIntroduction(tx, purpose, made.publicKey, made.kid, key.now);
    return made.kid;
  }

  /**
   * Signs the statement introducing a release or log key. A release key is introduced by the
   * active release key of its own algorithm; the first key of an algorithm, and every log key,
   * by the active default (Ed25519) release key. So the chain from any pinned release key
   * reaches the keys of both algorithms (core/keys/key-chain.ts).
   */
  private async signIntroduction(tx: Tx, purpose: 'release' | 'log', key: PublicKey, kid: string, now: Date): Promise<void> {
    const active = (await keyStates(tx, { purpose: 'release', statuses: ['active'] })).filter((k) => k.kid !== kid);
    const signerKid = (purpose === 'release' ? active.find((k) => k.algorithm === key.algorithm) : undefined)?.kid ?? active.find((k) => k.algorithm === DEFAULT_ALGORITHM)?.kid;
    // The very first release key has nobody to introduce it: clients pin it.
    if (!signerKid) return;
    const signer = await this.signerFor(tx, signerKid);
    const payload = encodeKeyLink({ purpose, signer, key, createdAt: now });
    const signature = await signer.sign(preAuthEncoding(KEY_LINK_PAYLOAD_TYPE, payload));
    await insertKeyLink(tx, { purpose, signerKid, kid, payload, signature, createdAt: now });
  }

  /** The signer of a stored key, loaded through the backend once per process. */
  private async signerFor(session: Tx, kid: string): Promise<Signer> {
    const known = this.signers.get(kid);
    if (known) return known;
    const stored = await storedKey(session, kid);
    if (!stored) throw new ModelsignError('key_unavailable', `no key ${kid}`);
    const signer = await this.backend.load(kid, stored.key, stored.material);
    this.signers.set(kid, signer);
    return signer;
  }
}

const slotKey = (slot: KeySlot): string => `${slot.purpose}/${slot.algorithm}`;
