// Private keys in a PKCS#11 token: generated there (CKA_SENSITIVE, not CKA_EXTRACTABLE, so the
// token itself sets CKA_LOCAL, CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE), found by CKA_ID,
// used through the token's CKM_EDDSA and CKM_ECDSA, destroyed with C_DestroyObject. The row keeps
// the kid, the public key and the object's CKA_ID, CKA_LABEL and token label; no key material
// ever reaches this process. A loaded key's public half is read from the token and must equal
// the row's, or the key is unusable (key_unavailable). ECDSA: SHA-256 computed here (SoftHSM and
// many HSMs have no CKM_ECDSA_SHA256), the token's raw r‖s turned into low-S DER.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bytesToHex, equalBytes } from '../../../core/bytes.ts';
import type { AlgorithmId, Signer } from '../../../core/crypto/algorithm.ts';
import { lowSDerOfRaw } from '../../../core/crypto/ecdsa-p256.ts';
import { keyIdOf } from '../../../core/crypto/public-key.ts';
import { ModelsignError } from '../../../core/errors.ts';
import type { PublicKey } from '../../../core/keys/key.ts';
import { slotName, type KeySlot } from '../../../core/keys/lifecycle.ts';
import type { Tx } from '../../../db/client.ts';
import type { StoredKeyMaterial, TokenMaterial } from '../../../db/key-store.ts';
import { KeyBackendError, type KeyBackend, type NewKey } from '../key-backend.ts';
import { openPkcs11Module, Pkcs11Error, type Attribute, type Pkcs11Module } from './binding.ts';
import { CKA, CKK, CKM, CKM_NAMES, CKO, CKR, ckrName } from './constants.ts';
import { findSlot, TokenSessions, type TokenEvents, type TokenSelector } from './token-sessions.ts';


export interface Pkcs11Options extends TokenSelector {
  modulePath: string;
  pinFile: string;
  /** The key slots this backend makes keys for (their mechanisms are checked at start). */
  slots: readonly KeySlot[];
  sessions: number;
  /** Tests: wraps the module (fault injection). */
  wrapModule?: (module: Pkcs11Module) => Pkcs11Module;
}

interface TokenKeyType {
  keyType: number;
  generate: number;
  sign: number;
  /** CKA_EC_PARAMS to try in order (Ed25519: the RFC 8410 OID, then PKCS#11 3.0's PrintableString). */
  params: Buffer[];
  publicKeyLength: number;
  /** What is handed to C_Sign. */
  input(message: Uint8Array): Uint8Array;
  /** What the token returns, as the service publishes it. */
  output(signature: Uint8Array): Uint8Array;
}

const TYPES: Readonly<Record<AlgorithmId, TokenKeyType>> = {
  Ed25519: {
    keyType: CKK.EC_EDWARDS,
    generate: CKM.EC_EDWARDS_KEY_PAIR_GEN,
    sign: CKM.EDDSA,
    params: [Buffer.from('06032b6570', 'hex'), Buffer.from('130c656477617264733235353139', 'hex')],
    publicKeyLength: 32,
    input: (m) => m,
    output: (s) => new Uint8Array(s),
  },
  'ECDSA P-256': {
    keyType: CKK.EC,
    generate: CKM.EC_KEY_PAIR_GEN,
    sign: CKM.ECDSA,
    params: [Buffer.from('06082a8648ce3d030107', 'hex')],
    publicKeyLength: 65,
    input: (m) => createHash('sha256').update(m).digest(),
    output: lowSDerOfRaw,
  },
};

const ulong = (value: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b;
};
const bool = (value: boolean): Buffer => Buffer.from([value ? 1 : 0]);
const attr = (type: number, value: Buffer): Attribute => ({ type, value });

/** CKA_EC_POINT is a DER OCTET STRING for generated keys, the bare point for some imported ones. */
function ecPointOf(value: Uint8Array, length: number): Uint8Array | undefined {
  if (value.length === length) return value;
  if (value.length === length + 2 && value[0] === 0x04 && value[1] === length) return value.subarray(2);
  return undefined;
}

const PIN_REFUSED: ReadonlySet<number> = new Set([CKR.PIN_INCORRECT, CKR.PIN_INVALID, CKR.PIN_LEN_RANGE, CKR.PIN_EXPIRED, CKR.PIN_LOCKED]);

const unusable = (kid: string, why: string) => new ModelsignError('key_unavailable', `key ${kid} cannot sign: ${why}`);

/**
 * When most of the last INLINE_SAMPLE signatures took longer than this on the event loop, signing
 * moves to worker threads for good: an in-process token (SoftHSM2: 0.2 to 0.5 ms) signs faster
 * inline than through a thread hop (`npm run bench:sign -- --backend pkcs11` shows it), while a
 * network HSM must not block the loop. A majority, not one slow call: under load the OS may
 * pause the thread in the middle of a fast one.
 */
export const INLINE_SIGN_LIMIT_MS = 2;
const INLINE_SAMPLE = 16;

export class Pkcs11Backend implements KeyBackend {
  private readonly handles = new Map<string, { handle: number; epoch: number }>();
  /** Whether C_Sign runs on worker threads (INLINE_SIGN_LIMIT_MS). */
  private threaded = false;
  /** Of the last inline signatures (a bit each, newest lowest), which were slow. */
  private slowInline = 0;
  private inlineCount = 0;

  private constructor(
    private readonly module: Pkcs11Module,
    private readonly sessions: TokenSessions,
    readonly token: string,
    private readonly releaseModule: () => void,
    private readonly events: TokenEvents,
  ) {}

  /**
   * Loads the module, finds the token by label, logs in and checks the mechanisms the chosen
   * slots need; every failure is a KeyBackendError naming the setting to fix.
   */
  static async open(options: Pkcs11Options, events: TokenEvents): Promise<Pkcs11Backend> {
    let opened: { module: Pkcs11Module; release(): void };
    try {
      opened = openPkcs11Module(options.modulePath);
    } catch (err) {
      throw new KeyBackendError(`MODELSIGN_PKCS11_MODULE: cannot load ${options.modulePath} as a PKCS#11 module (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
    try {
      const module = options.wrapModule ? options.wrapModule(opened.module) : opened.module;
      const slot = findSlot(module, options);
      if (slot === undefined) {
        const labels = module.slots().map((s) => JSON.stringify(module.tokenInfo(s).label));
        throw new KeyBackendError(`MODELSIGN_PKCS11_URI: no token labelled "${options.label}"${options.serial ? ` with serial ${options.serial}` : ''} in ${options.modulePath} (tokens: ${labels.join(', ') || 'none'})`);
      }
      let pin: Buffer;
      try {
        pin = Buffer.from(readFileSync(options.pinFile, 'utf8').split('\n')[0]!.trim(), 'utf8');
      } catch (err) {
        throw new KeyBackendError(`the PKCS#11 PIN file ${options.pinFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      const missing = new Map<string, string[]>();
      const available = new Set(module.mechanisms(slot));
      for (const keySlot of options.slots) {
        const type = TYPES[keySlot.algorithm];
        for (const mechanism of [type.generate, type.sign]) {
          if (!available.has(mechanism)) missing.set(CKM_NAMES[mechanism]!, [...(missing.get(CKM_NAMES[mechanism]!) ?? []), slotName(keySlot)]);
        }
      }
      if (missing.size > 0) {
        const list = [...missing].map(([mechanism, slots]) => `${mechanism} (for ${slots.join(', ')} keys)`).join(', ');
        throw new KeyBackendError(`the PKCS#11 token "${options.label}" lacks ${list}; keep those keys KEK-wrapped with MODELSIGN_PKCS11_PURPOSES`);
      }
      const sessions = new TokenSessions(module, options, slot, pin, options.sessions, events);
      // Logs in now, so a wrong PIN stops the start rather than the first signature.
      try {
        await sessions.run(() => undefined);
      } catch (err) {
        sessions.close();
        if (err instanceof Pkcs11Error && PIN_REFUSED.has(err.rv)) {
          throw new KeyBackendError(`the PIN in ${options.pinFile} is not accepted by the PKCS#11 token "${options.label}" (${ckrName(err.rv)})`);
        }
        throw new KeyBackendError(`cannot log in to the PKCS#11 token "${options.label}" (${err instanceof Error ? err.message : String(err)})`);
      }
      return new Pkcs11Backend(module, sessions, options.label, opened.release, events);
    } catch (err) {
      opened.release();
      // A module that fails a plain query at start (C_GetSlotList, C_GetMechanismList...) is still one line.
      if (err instanceof Pkcs11Error) throw new KeyBackendError(`the PKCS#11 module ${options.modulePath} failed at start: ${err.message}`);
      throw err;
    }
  }

  available(): boolean {
    return this.sessions.available();
  }

  async generate(_tx: Tx, slot: KeySlot): Promise<NewKey> {
    const type = TYPES[slot.algorithm];
    const id = randomBytes(16);
    return this.sessions.run(async (session) => {
      const made = this.generateWithParams(session, type, id);
      try {
        const point = ecPointOf(this.module.attribute(session, made.publicKey, CKA.EC_POINT), type.publicKeyLength);
        if (!point) throw new KeyBackendError(`the token returned a ${slot.algorithm} public key in an unknown form`);
        const publicKey: PublicKey = { algorithm: slot.algorithm, publicKey: new Uint8Array(point) };
        const kid = keyIdOf(publicKey);
        // The label names the key in `pkcs11-tool --list-objects`; the service finds it by CKA_ID.
        for (const object of [made.publicKey, made.privateKey]) this.module.setAttribute(session, object, attr(CKA.LABEL, Buffer.from(kid)));
        return { kid, publicKey, material: { kind: 'pkcs11', objectId: new Uint8Array(id), label: kid, token: this.token } };
      } catch (err) {
        for (const object of [made.publicKey, made.privateKey]) this.destroyQuietly(session, object);
        throw err;
      }
    });
  }

  async load(kid: string, key: PublicKey, material: StoredKeyMaterial): Promise<Signer> {
    if (material.kind !== 'pkcs11') throw new ModelsignError('kek_mismatch', `key ${kid} is KEK-wrapped`);
    if (material.token !== this.token) throw unusable(kid, `it was made in the PKCS#11 token "${material.token}", this instance uses "${this.token}"`);
    const type = TYPES[key.algorithm];
    // Checked now when the token answers; a token away at load is checked on the first signature.
    let checked = false;
    const check = async (session: number) => {
      if (checked) return;
      this.checkPublicKey(session, kid, key, material);
      checked = true;
    };
    try {
      await this.sessions.run(check);
    } catch (err) {
      if (!(err instanceof ModelsignError && err.code === 'key_backend_unavailable')) throw err;
    }
    return {
      kid,
      algorithm: key.algorithm,
      publicKey: key.publicKey,
      sign: async (message) => {
        const input = type.input(message);
        const raw = await this.sessions.run(async (session) => {
          await check(session);
          for (let attempt = 1; ; attempt++) {
            const handle = this.privateHandle(session, kid, material);
            try {
              if (this.threaded) return await this.module.sign(session, type.sign, handle, input, 64, true);
              // Timed before awaiting: the inline call has returned by then, other work has not run.
              // A duration (how long the inline call blocked the event loop): the monotonic clock.
              const started = performance.now();
              const signing = this.module.sign(session, type.sign, handle, input, 64, false);
              this.timed(performance.now() - started);
              return await signing;
            } catch (err) {
              if (attempt === 1 && err instanceof Pkcs11Error && (err.rv === CKR.KEY_HANDLE_INVALID || err.rv === CKR.OBJECT_HANDLE_INVALID)) {
                this.handles.delete(kid);
                continue;
              }
              throw err;
            }
          }
        });
        return type.output(raw);
      },
    };
  }

  /** Destroys a key's private and public objects (a revoked or long-retired key); undefined for a key another token holds. */
  async destroy(kid: string, material: StoredKeyMaterial): Promise<boolean | undefined> {
    if (material.kind !== 'pkcs11' || material.token !== this.token) return undefined;
    this.handles.delete(kid);
    return this.sessions.run((session) => {
      const objects = this.module.findObjects(session, [attr(CKA.ID, Buffer.from(material.objectId))]);
      for (const object of objects) this.module.destroyObject(session, object);
      return objects.length > 0;
    });
  }

  async close(): Promise<void> {
    this.sessions.close();
    this.releaseModule();
  }

  private timed(ms: number): void {
    this.slowInline = ((this.slowInline << 1) | (ms > INLINE_SIGN_LIMIT_MS ? 1 : 0)) & ((1 << INLINE_SAMPLE) - 1);
    this.inlineCount++;
    let slow = 0;
    for (let bits = this.slowInline; bits; bits &= bits - 1) slow++;
    if (this.inlineCount >= INLINE_SAMPLE && slow > INLINE_SAMPLE / 2) {
      this.threaded = true;
      this.events.threaded?.(INLINE_SIGN_LIMIT_MS);
    }
  }

  private generateWithParams(session: number, type: TokenKeyType, id: Buffer): { publicKey: number; privateKey: number } {
    for (const [i, params] of type.params.entries()) {
      try {
        return this.module.generateKeyPair(
          session,
          type.generate,
          [attr(CKA.CLASS, ulong(CKO.PUBLIC_KEY)), attr(CKA.KEY_TYPE, ulong(type.keyType)), attr(CKA.TOKEN, bool(true)), attr(CKA.PRIVATE, bool(false)), attr(CKA.VERIFY, bool(true)), attr(CKA.EC_PARAMS, params), attr(CKA.ID, id)],
          [
            attr(CKA.CLASS, ulong(CKO.PRIVATE_KEY)),
            attr(CKA.KEY_TYPE, ulong(type.keyType)),
            attr(CKA.TOKEN, bool(true)),
            attr(CKA.PRIVATE, bool(true)),
            attr(CKA.SIGN, bool(true)),
            attr(CKA.SENSITIVE, bool(true)),
            attr(CKA.EXTRACTABLE, bool(false)),
            attr(CKA.ID, id),
          ],
        );
      } catch (err) {
        const retry = err instanceof Pkcs11Error && (err.rv === CKR.ATTRIBUTE_VALUE_INVALID || err.rv === CKR.CURVE_NOT_SUPPORTED);
        if (!retry || i === type.params.length - 1) throw err;
      }
    }
    throw new Error('unreachable');
  }

  private checkPublicKey(session: number, kid: string, key: PublicKey, material: TokenMaterial): void {
    const id = Buffer.from(material.objectId);
    const [publicObject] = this.module.findObjects(session, [attr(CKA.CLASS, ulong(CKO.PUBLIC_KEY)), attr(CKA.ID, id)]);
    const source = publicObject ?? this.privateHandle(session, kid, material);
    let point: Uint8Array | undefined;
    try {
      point = ecPointOf(this.module.attribute(session, source, CKA.EC_POINT), TYPES[key.algorithm].publicKeyLength);
    } catch (err) {
      if (!(err instanceof Pkcs11Error && err.rv === CKR.ATTRIBUTE_TYPE_INVALID)) throw err;
    }
    if (!point) throw unusable(kid, `the token holds no public key for CKA_ID ${bytesToHex(material.objectId)} to check it against`);
    if (!equalBytes(point, key.publicKey)) throw unusable(kid, `the public key of the token object with CKA_ID ${bytesToHex(material.objectId)} is not the one stored for it`);
  }

  private privateHandle(session: number, kid: string, material: TokenMaterial): number {
    const known = this.handles.get(kid);
    if (known && known.epoch === this.sessions.epoch) return known.handle;
    const found = this.module.findObjects(session, [attr(CKA.CLASS, ulong(CKO.PRIVATE_KEY)), attr(CKA.ID, Buffer.from(material.objectId))]);
    if (found.length !== 1) {
      throw unusable(kid, found.length === 0 ? `the token has no private key with CKA_ID ${bytesToHex(material.objectId)} (destroyed, or another token?)` : `the token has ${found.length} private keys with CKA_ID ${bytesToHex(material.objectId)}`);
    }
    this.handles.set(kid, { handle: found[0]!, epoch: this.sessions.epoch });
    return found[0]!;
  }

  private destroyQuietly(session: number, object: number): void {
    try {
      this.module.destroyObject(session, object);
    } catch {
      // Left behind: an object no row names is never used.
    }
  }
}
