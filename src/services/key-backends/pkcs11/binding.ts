// The PKCS#11 module as a small typed interface, over koffi (an FFI with prebuilt binaries for
// every platform we ship on, delivered as optional dependencies: no compiler, no install script,
// so it installs in the slim image and under `allowScripts: false`). pkcs11js would need
// node-gyp at install; graphene-pk11 and node-webcrypto-p11 sit on it and have no EdDSA.
// koffi is imported only when the pkcs11 backend is chosen.
//
// Linux and macOS ABI: CK_ULONG is `unsigned long` (64-bit) and structures use the default
// packing. Windows modules (32-bit CK_ULONG, 1-byte packing) are not supported.
import { createRequire } from 'node:module';
import { CKF, ckrName } from './constants.ts';

export class Pkcs11Error extends Error {
  override readonly name = 'Pkcs11Error';
  constructor(
    readonly fn: string,
    readonly rv: number,
  ) {
    super(`${fn} failed: ${ckrName(rv)}`);
  }
}

export interface Attribute {
  type: number;
  value: Buffer;
}

export interface TokenInfo {
  label: string;
  manufacturer: string;
  serial: string;
  flags: number;
}

/** The module's functions modelsign calls; each throws Pkcs11Error on a return value other than CKR_OK. */
export interface Pkcs11Module {
  readonly path: string;
  readonly library?: unknown;
  initialize(): void;
  finalize(): void;
  /** Slots with a token present. */
  slots(): number[];
  tokenInfo(slot: number): TokenInfo;
  mechanisms(slot: number): number[];
  openSession(slot: number): number;
  closeSession(session: number): void;
  closeAllSessions(slot: number): void;
  login(session: number, userType: number, pin: Buffer): void;
  findObjects(session: number, template: Attribute[]): number[];
  /** One attribute's value (the two-call pattern: length, then value). */
  attribute(session: number, object: number, type: number): Buffer;
  generateKeyPair(session: number, mechanism: number, publicTemplate: Attribute[], privateTemplate: Attribute[]): { publicKey: number; privateKey: number };
  /**
   * C_SignInit and C_Sign. `threaded`: C_Sign runs on a worker thread (a network HSM answers in
   * milliseconds, which must not block the event loop); otherwise on this thread (an in-process
   * token such as SoftHSM2 answers in a fraction of a millisecond, less than the thread hop costs).
   */
  sign(session: number, mechanism: number, key: number, data: Uint8Array, maxLength: number, threaded: boolean): Promise<Buffer>;
  setAttribute(session: number, object: number, attribute: Attribute): void;
  destroyObject(session: number, object: number): void;
  /** Tests and token set-up only. */
  initToken(slot: number, soPin: Buffer, label: string): void;
  initPin(session: number, pin: Buffer): void;
}

// The function list (pkcs11f.h order), read through C_GetFunctionList as every PKCS#11 client
// must: a module may export only that symbol.
const FUNCTIONS =
  'Initialize Finalize GetInfo GetFunctionList GetSlotList GetSlotInfo GetTokenInfo GetMechanismList GetMechanismInfo InitToken InitPIN SetPIN OpenSession CloseSession CloseAllSessions GetSessionInfo GetOperationState SetOperationState Login Logout CreateObject CopyObject DestroyObject GetObjectSize GetAttributeValue SetAttributeValue FindObjectsInit FindObjects FindObjectsFinal EncryptInit Encrypt EncryptUpdate EncryptFinal DecryptInit Decrypt DecryptUpdate DecryptFinal DigestInit Digest DigestUpdate DigestKey DigestFinal SignInit Sign SignUpdate SignFinal SignRecoverInit SignRecover VerifyInit Verify VerifyUpdate VerifyFinal VerifyRecoverInit VerifyRecover DigestEncryptUpdate DecryptDigestUpdate SignEncryptUpdate DecryptVerifyUpdate GenerateKey GenerateKeyPair WrapKey UnwrapKey DeriveKey SeedRandom GenerateRandom GetFunctionStatus CancelFunction WaitForSlotEvent'.split(
    ' ',
  );

const PROTOTYPES: Record<string, string> = {
  Initialize: 'CK_RV Initialize(CK_C_INITIALIZE_ARGS *args)',
  Finalize: 'CK_RV Finalize(void *reserved)',
  GetSlotList: 'CK_RV GetSlotList(uint8_t tokenPresent, _Out_ CK_ULONG *slots, _Inout_ CK_ULONG *count)',
  GetTokenInfo: 'CK_RV GetTokenInfo(CK_ULONG slot, _Out_ CK_TOKEN_INFO *info)',
  GetMechanismList: 'CK_RV GetMechanismList(CK_ULONG slot, _Out_ CK_ULONG *list, _Inout_ CK_ULONG *count)',
  InitToken: 'CK_RV InitToken(CK_ULONG slot, const uint8_t *pin, CK_ULONG pinLen, const uint8_t *label)',
  InitPIN: 'CK_RV InitPIN(CK_ULONG session, const uint8_t *pin, CK_ULONG pinLen)',
  OpenSession: 'CK_RV OpenSession(CK_ULONG slot, CK_ULONG flags, void *app, void *notify, _Out_ CK_ULONG *session)',
  CloseSession: 'CK_RV CloseSession(CK_ULONG session)',
  CloseAllSessions: 'CK_RV CloseAllSessions(CK_ULONG slot)',
  Login: 'CK_RV Login(CK_ULONG session, CK_ULONG userType, const uint8_t *pin, CK_ULONG pinLen)',
  DestroyObject: 'CK_RV DestroyObject(CK_ULONG session, CK_ULONG object)',
  SetAttributeValue: 'CK_RV SetAttributeValue(CK_ULONG session, CK_ULONG object, CK_ATTRIBUTE *template, CK_ULONG count)',
  GetAttributeValue: 'CK_RV GetAttributeValue(CK_ULONG session, CK_ULONG object, _Inout_ CK_ATTRIBUTE *template, CK_ULONG count)',
  FindObjectsInit: 'CK_RV FindObjectsInit(CK_ULONG session, CK_ATTRIBUTE *template, CK_ULONG count)',
  FindObjects: 'CK_RV FindObjects(CK_ULONG session, _Out_ CK_ULONG *objects, CK_ULONG max, _Out_ CK_ULONG *count)',
  FindObjectsFinal: 'CK_RV FindObjectsFinal(CK_ULONG session)',
  SignInit: 'CK_RV SignInit(CK_ULONG session, CK_MECHANISM *mechanism, CK_ULONG key)',
  Sign: 'CK_RV Sign(CK_ULONG session, const uint8_t *data, CK_ULONG dataLen, _Out_ uint8_t *signature, _Inout_ CK_ULONG *signatureLen)',
  GenerateKeyPair:
    'CK_RV GenerateKeyPair(CK_ULONG session, CK_MECHANISM *mechanism, CK_ATTRIBUTE *publicTemplate, CK_ULONG publicCount, CK_ATTRIBUTE *privateTemplate, CK_ULONG privateCount, _Out_ CK_ULONG *publicKey, _Out_ CK_ULONG *privateKey)',
};

type Koffi = typeof import('koffi');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = ((...args: any[]) => number) & { async: (...args: any[]) => void };

let types: ReturnType<typeof defineTypes> | undefined;

function defineTypes(koffi: Koffi) {
  koffi.alias('CK_ULONG', 'unsigned long');
  koffi.alias('CK_RV', 'unsigned long');
  const version = koffi.struct('CK_VERSION', { major: 'uint8_t', minor: 'uint8_t' });
  koffi.struct('CK_ATTRIBUTE', { type: 'CK_ULONG', pValue: 'void *', ulValueLen: 'CK_ULONG' });
  koffi.struct('CK_MECHANISM', { mechanism: 'CK_ULONG', pParameter: 'void *', ulParameterLen: 'CK_ULONG' });
  koffi.struct('CK_C_INITIALIZE_ARGS', { CreateMutex: 'void *', DestroyMutex: 'void *', LockMutex: 'void *', UnlockMutex: 'void *', flags: 'CK_ULONG', pReserved: 'void *' });
  const bytes = (n: number) => koffi.array('uint8_t', n, 'Array');
  koffi.struct('CK_TOKEN_INFO', {
    label: bytes(32),
    manufacturerID: bytes(32),
    model: bytes(16),
    serialNumber: bytes(16),
    flags: 'CK_ULONG',
    // Counts, versions and time: not read here, but the library writes them.
    rest: bytes(160),
  });
  // Types are registered by name once per process (koffi refuses a second definition).
  return {
    functionList: koffi.struct('CK_FUNCTION_LIST', { version, fns: koffi.array('void *', FUNCTIONS.length) }),
    prototypes: Object.fromEntries(Object.entries(PROTOTYPES).map(([name, prototype]) => [name, koffi.proto(prototype)])),
  };
}

const text = (bytes: number[]): string => Buffer.from(bytes).toString('utf8').replace(/[\0 ]+$/, '');

/** Loads a PKCS#11 module; throws when the file is missing or is not a PKCS#11 module. */
function loadPkcs11Module(modulePath: string): Pkcs11Module {
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  types ??= defineTypes(koffi);
  const lib = koffi.load(modulePath);
  const getFunctionList = lib.func('CK_RV C_GetFunctionList(_Out_ CK_FUNCTION_LIST **list)');
  const out: unknown[] = [null];
  const rv = getFunctionList(out) as number;
  if (rv !== 0) throw new Pkcs11Error('C_GetFunctionList', rv);
  const list = koffi.decode(out[0], types.functionList) as { fns: unknown[] };
  const prototypes = types.prototypes;
  const fn = (name: string): Fn => koffi.decode(list.fns[FUNCTIONS.indexOf(name)], prototypes[name]!) as Fn;
  const C = Object.fromEntries(Object.keys(PROTOTYPES).map((name) => [name, fn(name)])) as Record<string, Fn>;
  const check = (name: string, value: number): void => {
    if (value !== 0) throw new Pkcs11Error(`C_${name}`, value);
  };
  const call = (name: string, ...args: unknown[]): void => check(name, C[name]!(...args));
  const template = (attributes: Attribute[]) => attributes.map((a) => ({ type: a.type, pValue: a.value, ulValueLen: a.value.length }));
  const ulongs = (get: (out: bigint[] | null, count: number[]) => void): number[] => {
    const count = [0];
    get(null, count);
    if (count[0] === 0) return [];
    const values = new Array<bigint>(count[0]!).fill(0n);
    get(values, count);
    return values.slice(0, count[0]).map(Number);
  };
  return {
    path: modulePath,
    // koffi unloads a library whose handle is garbage-collected, which would leave every function
    // pointer above dangling: the module object keeps it.
    library: lib,
    initialize: () => call('Initialize', { CreateMutex: null, DestroyMutex: null, LockMutex: null, UnlockMutex: null, flags: CKF.OS_LOCKING_OK, pReserved: null }),
    finalize: () => call('Finalize', null),
    slots: () => ulongs((values, count) => call('GetSlotList', 1, values, count)),
    tokenInfo(slot) {
      const info = {} as { label: number[]; manufacturerID: number[]; serialNumber: number[]; flags: number };
      call('GetTokenInfo', slot, info);
      return { label: text(info.label), manufacturer: text(info.manufacturerID), serial: text(info.serialNumber), flags: Number(info.flags) };
    },
    mechanisms: (slot) => ulongs((values, count) => call('GetMechanismList', slot, values, count)),
    openSession(slot) {
      const session = [0];
      call('OpenSession', slot, CKF.SERIAL_SESSION | CKF.RW_SESSION, null, null, session);
      return Number(session[0]);
    },
    closeSession: (session) => call('CloseSession', session),
    closeAllSessions: (slot) => call('CloseAllSessions', slot),
    login: (session, userType, pin) => call('Login', session, userType, pin, pin.length),
    findObjects(session, attributes) {
      call('FindObjectsInit', session, template(attributes), attributes.length);
      try {
        const found: number[] = [];
        for (;;) {
          const batch = new Array<bigint>(16).fill(0n);
          const count = [0];
          call('FindObjects', session, batch, batch.length, count);
          found.push(...batch.slice(0, count[0]).map(Number));
          if (count[0]! < batch.length) return found;
        }
      } finally {
        C.FindObjectsFinal!(session);
      }
    },
    attribute(session, object, type) {
      const probe = [{ type, pValue: null, ulValueLen: 0 }];
      call('GetAttributeValue', session, object, probe, 1);
      const value = Buffer.alloc(Number(probe[0]!.ulValueLen));
      const read = [{ type, pValue: value, ulValueLen: value.length }];
      call('GetAttributeValue', session, object, read, 1);
      return value.subarray(0, Number(read[0]!.ulValueLen));
    },
    generateKeyPair(session, mechanism, publicTemplate, privateTemplate) {
      const publicKey = [0];
      const privateKey = [0];
      call('GenerateKeyPair', session, { mechanism, pParameter: null, ulParameterLen: 0 }, template(publicTemplate), publicTemplate.length, template(privateTemplate), privateTemplate.length, publicKey, privateKey);
      return { publicKey: Number(publicKey[0]), privateKey: Number(privateKey[0]) };
    },
    sign(session, mechanism, key, data, maxLength, threaded) {
      call('SignInit', session, { mechanism, pParameter: null, ulParameterLen: 0 }, key);
      const signature = Buffer.alloc(maxLength);
      const length = [maxLength];
      const message = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (!threaded) {
        const rv = C.Sign!(session, message, message.length, signature, length);
        return rv === 0 ? Promise.resolve(signature.subarray(0, length[0])) : Promise.reject(new Pkcs11Error('C_Sign', rv));
      }
      return new Promise((resolve, reject) => {
        C.Sign!.async(session, message, message.length, signature, length, (err: unknown, value: number) => {
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else if (value !== 0) reject(new Pkcs11Error('C_Sign', value));
          else resolve(signature.subarray(0, length[0]));
        });
      });
    },
    setAttribute: (session, object, attribute) => call('SetAttributeValue', session, object, template([attribute]), 1),
    destroyObject: (session, object) => call('DestroyObject', session, object),
    initToken(slot, soPin, label) {
      // The label is 32 bytes, padded with spaces (SoftHSM stores what it is given).
      call('InitToken', slot, soPin, soPin.length, Buffer.from(label.padEnd(32, ' ').slice(0, 32), 'utf8'));
    },
    initPin: (session, pin) => call('InitPIN', session, pin, pin.length),
  };
}

const shared = new Map<string, { module: Pkcs11Module; users: number }>();

/**
 * The module at `modulePath`, initialised once per process however many backends use it
 * (C_Initialize twice is an error, and C_Finalize would pull the token from under the others);
 * `release` finalises it when its last user is done.
 */
export function openPkcs11Module(modulePath: string): { module: Pkcs11Module; release(): void } {
  let entry = shared.get(modulePath);
  if (!entry) {
    const module = loadPkcs11Module(modulePath);
    module.initialize();
    entry = { module, users: 0 };
    shared.set(modulePath, entry);
  }
  entry.users++;
  const held = entry;
  let released = false;
  return {
    module: held.module,
    release() {
      if (released) return;
      released = true;
      if (--held.users > 0) return;
      shared.delete(modulePath);
      try {
        held.module.finalize();
      } catch {
        // Finalising a module whose device is gone: nothing left to release.
      }
    },
  };
}
