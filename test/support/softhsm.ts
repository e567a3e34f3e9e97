// SoftHSM2 for the PKCS#11 tests: one token per test process, made through the module itself
// (C_InitToken, C_InitPIN) in a temporary token directory that SOFTHSM2_CONF points at, never the
// system's. Every test app of the process makes its keys in that token (random CKA_IDs keep them
// apart). Debian's softhsm2 package provides the module; when it is missing the PKCS#11 tests
// skip, unless MODELSIGN_TEST_REQUIRE_SOFTHSM=1 (CI sets it), which makes them fail.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pkcs11Config } from '../../src/config.ts';
import { KEY_SLOTS } from '../../src/core/keys/lifecycle.ts';
import { openPkcs11Module, Pkcs11Error, type Pkcs11Module } from '../../src/services/key-backends/pkcs11/binding.ts';
import { CKA, CKF, CKR, CKU } from '../../src/services/key-backends/pkcs11/constants.ts';

export const SOFTHSM_MODULE = process.env.MODELSIGN_TEST_SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
export const TOKEN_LABEL = 'modelsign-test';
export const SO_PIN = '87654321';
export const USER_PIN = '246810';

/** Whether the PKCS#11 tests can run; a `skip` reason when they cannot and need not. */
export function softHsmSkip(): string | false {
  if (existsSync(SOFTHSM_MODULE)) return false;
  if (process.env.MODELSIGN_TEST_REQUIRE_SOFTHSM === '1') throw new Error(`SoftHSM2 is required (MODELSIGN_TEST_REQUIRE_SOFTHSM=1) but ${SOFTHSM_MODULE} is missing: apt-get install softhsm2`);
  return `SoftHSM2 is not installed (${SOFTHSM_MODULE}); apt-get install softhsm2`;
}

export interface SoftHsm {
  dir: string;
  /** A file holding USER_PIN. */
  pinFile: string;
  /** The pkcs11 configuration of an instance using the test token. */
  config(overrides?: Partial<Pkcs11Config>): Pkcs11Config;
  /** Writes the SoftHSM configuration with `extra` lines (e.g. slots.mechanisms) for processes started with its env. */
  confWith(extra: string): string;
}

let made: SoftHsm | undefined;

/**
 * The process's SoftHSM directory and token, made on first use. Must run before anything in the
 * process initialises the module (SoftHSM reads SOFTHSM2_CONF at C_Initialize).
 */
export function softHsm(): SoftHsm {
  if (made) return made;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'modelsign-softhsm-'));
  const conf = (extra = '', name = 'softhsm2.conf') => {
    const file = path.join(dir, name);
    writeFileSync(file, `directories.tokendir = ${dir}/tokens/\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n${extra}`);
    return file;
  };
  writeFileSync(path.join(dir, 'pin'), USER_PIN + '\n', { mode: 0o600 });
  rmSync(path.join(dir, 'tokens'), { recursive: true, force: true });
  mkdirSync(path.join(dir, 'tokens'));
  process.env.SOFTHSM2_CONF = conf();
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

  const { module, release } = openPkcs11Module(SOFTHSM_MODULE);
  try {
    const free = module.slots().find((slot) => (module.tokenInfo(slot).flags & CKF.TOKEN_INITIALIZED) === 0);
    if (free === undefined) throw new Error('SoftHSM offers no free slot');
    module.initToken(free, Buffer.from(SO_PIN), TOKEN_LABEL);
  } finally {
    release();
  }
  // The new token has a new slot number, seen after the module is initialised again.
  const again = openPkcs11Module(SOFTHSM_MODULE);
  try {
    const slot = again.module.slots().find((s) => again.module.tokenInfo(s).label === TOKEN_LABEL)!;
    const session = again.module.openSession(slot);
    again.module.login(session, CKU.SO, Buffer.from(SO_PIN));
    again.module.initPin(session, Buffer.from(USER_PIN));
    again.module.closeSession(session);
  } finally {
    again.release();
  }
  const pinFile = path.join(dir, 'pin');
  made = {
    dir,
    pinFile,
    config: (overrides = {}) => ({ modulePath: SOFTHSM_MODULE, token: TOKEN_LABEL, serial: undefined, manufacturer: undefined, pinFile, slots: [...KEY_SLOTS], sessions: 4, ...overrides }),
    confWith: (extra) => conf(extra, `softhsm2-${Math.random().toString(36).slice(2)}.conf`),
  };
  return made;
}

/** Runs `fn` on a logged-in session of the test token, through the process's module. */
export function withTokenSession<T>(fn: (module: Pkcs11Module, session: number, slot: number) => T): T {
  softHsm();
  const { module, release } = openPkcs11Module(SOFTHSM_MODULE);
  try {
    const slot = module.slots().find((s) => module.tokenInfo(s).label === TOKEN_LABEL)!;
    const session = module.openSession(slot);
    try {
      try {
        module.login(session, CKU.USER, Buffer.from(USER_PIN));
      } catch (err) {
        if (!(err instanceof Pkcs11Error && err.rv === CKR.USER_ALREADY_LOGGED_IN)) throw err;
      }
      return fn(module, session, slot);
    } finally {
      try {
        module.closeSession(session);
      } catch {
        // `fn` closed every session (C_CloseAllSessions).
      }
    }
  } finally {
    release();
  }
}

/** The objects of the test token with CKA_ID `id`. */
export function objectsWithId(module: Pkcs11Module, session: number, id: Uint8Array): number[] {
  return module.findObjects(session, [{ type: CKA.ID, value: Buffer.from(id) }]);
}

/**
 * A module whose every call fails with `rv` while `failing()` says so: the device or the session
 * went away, as seen by the backend.
 */
export function faultyModule(failing: () => number | undefined): (module: Pkcs11Module) => Pkcs11Module {
  return (module) =>
    new Proxy(module, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const rv = failing();
          if (rv !== undefined) {
            const error = new Pkcs11Error(`C_${String(property)}`, rv);
            if (property === 'sign') return Promise.reject(error);
            throw error;
          }
          return value.apply(target, args);
        };
      },
    });
}
