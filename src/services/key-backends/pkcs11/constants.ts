// The PKCS#11 numbers this backend uses (pkcs11t.h, Cryptoki 2.40, with the 3.0 EdDSA numbers
// that SoftHSM 2.6 and most current HSMs take as vendor extensions), and the names of the return
// values a log line or an error message shows.

export const CKR = {
  OK: 0x0,
  HOST_MEMORY: 0x2,
  GENERAL_ERROR: 0x5,
  FUNCTION_FAILED: 0x6,
  ARGUMENTS_BAD: 0x7,
  ATTRIBUTE_SENSITIVE: 0x11,
  ATTRIBUTE_TYPE_INVALID: 0x12,
  ATTRIBUTE_VALUE_INVALID: 0x13,
  DEVICE_ERROR: 0x30,
  DEVICE_MEMORY: 0x31,
  DEVICE_REMOVED: 0x32,
  KEY_HANDLE_INVALID: 0x60,
  MECHANISM_INVALID: 0x70,
  OBJECT_HANDLE_INVALID: 0x82,
  OPERATION_ACTIVE: 0x90,
  PIN_INCORRECT: 0xa0,
  PIN_INVALID: 0xa1,
  PIN_LEN_RANGE: 0xa2,
  PIN_EXPIRED: 0xa3,
  PIN_LOCKED: 0xa4,
  SESSION_CLOSED: 0xb0,
  SESSION_HANDLE_INVALID: 0xb3,
  TEMPLATE_INCONSISTENT: 0xd1,
  TOKEN_NOT_PRESENT: 0xe0,
  TOKEN_NOT_RECOGNIZED: 0xe1,
  USER_ALREADY_LOGGED_IN: 0x100,
  USER_NOT_LOGGED_IN: 0x101,
  BUFFER_TOO_SMALL: 0x150,
  CRYPTOKI_NOT_INITIALIZED: 0x190,
  CRYPTOKI_ALREADY_INITIALIZED: 0x191,
  CURVE_NOT_SUPPORTED: 0x140,
} as const;

const CKR_NAMES = new Map<number, string>(Object.entries(CKR).map(([name, value]) => [value, `CKR_${name}`]));

/** `CKR_PIN_INCORRECT`, or the number in hex for one this file does not name. */
export function ckrName(rv: number): string {
  return CKR_NAMES.get(rv) ?? `CKR 0x${rv.toString(16)}`;
}

/**
 * The return values after which a session (or the whole token) must be opened and logged in
 * again: the device went away, or the library forgot our sessions or our login.
 */
export const SESSION_LOST: ReadonlySet<number> = new Set([
  CKR.SESSION_HANDLE_INVALID,
  CKR.SESSION_CLOSED,
  CKR.DEVICE_REMOVED,
  CKR.DEVICE_ERROR,
  CKR.TOKEN_NOT_PRESENT,
  CKR.TOKEN_NOT_RECOGNIZED,
  CKR.USER_NOT_LOGGED_IN,
  CKR.CRYPTOKI_NOT_INITIALIZED,
]);

export const CKA = {
  CLASS: 0x0,
  TOKEN: 0x1,
  PRIVATE: 0x2,
  LABEL: 0x3,
  VALUE: 0x11,
  KEY_TYPE: 0x100,
  ID: 0x102,
  SENSITIVE: 0x103,
  SIGN: 0x108,
  VERIFY: 0x10a,
  EXTRACTABLE: 0x162,
  LOCAL: 0x163,
  NEVER_EXTRACTABLE: 0x164,
  ALWAYS_SENSITIVE: 0x165,
  EC_PARAMS: 0x180,
  EC_POINT: 0x181,
} as const;

export const CKO = { PUBLIC_KEY: 0x2, PRIVATE_KEY: 0x3 } as const;
export const CKK = { EC: 0x3, EC_EDWARDS: 0x40 } as const;
export const CKM = { EC_KEY_PAIR_GEN: 0x1040, ECDSA: 0x1041, EC_EDWARDS_KEY_PAIR_GEN: 0x1055, EDDSA: 0x1057 } as const;
export const CKU = { SO: 0, USER: 1 } as const;
export const CKF = {
  /** CK_C_INITIALIZE_ARGS: the library may use the operating system's locks (we call from several threads). */
  OS_LOCKING_OK: 0x2,
  RW_SESSION: 0x2,
  SERIAL_SESSION: 0x4,
  /** CK_TOKEN_INFO flags. */
  TOKEN_INITIALIZED: 0x400,
} as const;

/** The mechanism names a start-up error shows. */
export const CKM_NAMES: Readonly<Record<number, string>> = {
  [CKM.EC_KEY_PAIR_GEN]: 'CKM_EC_KEY_PAIR_GEN',
  [CKM.ECDSA]: 'CKM_ECDSA',
  [CKM.EC_EDWARDS_KEY_PAIR_GEN]: 'CKM_EC_EDWARDS_KEY_PAIR_GEN',
  [CKM.EDDSA]: 'CKM_EDDSA',
};
