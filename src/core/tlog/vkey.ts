// C2SP signed-note verifier keys ("vkeys"): `<key name>+<8 hex key ID>+base64(type || key)`, the
// form in which logs and witnesses publish their public keys and tlog-policy lists them.
import { equalBytes, fromBase64, toBase64 } from '../bytes.ts';
import { isKeyName, noteKeyId } from './signed-note.ts';
import { TlogError } from './tlog-error.ts';

/** Signature types of C2SP notes that a verifier here knows (signed-note, tlog-cosignature). */
export const NOTE_TYPE = { ed25519: 0x01, cosignatureV1: 0x04, mldsa44: 0x06 } as const;

const KEY_LENGTH: Readonly<Record<number, number>> = { [NOTE_TYPE.ed25519]: 32, [NOTE_TYPE.cosignatureV1]: 32, [NOTE_TYPE.mldsa44]: 1312 };

export interface Vkey {
  /** The key name: a log's origin, or a witness's name as it signs. */
  name: string;
  type: number;
  /** The raw public key, without the type byte. */
  publicKey: Uint8Array;
  /** The key ID the vkey states (checked against the key for the types known here). */
  keyId: number;
}

export function parseVkey(vkey: string): Vkey {
  // The base64 key may hold '+' itself: the name and key ID end at the first two.
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  const parts = second < 0 ? [] : [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
  const data = parts.length === 3 ? fromBase64(parts[2]!) : undefined;
  if (parts.length !== 3 || !isKeyName(parts[0]!) || !/^[0-9a-fA-F]{8}$/.test(parts[1]!) || !data || data.length < 2) {
    throw new TlogError('vkey_malformed', `${JSON.stringify(vkey.slice(0, 80))} is not a vkey (name+keyid+base64 key)`);
  }
  const [name, hex] = parts as [string, string, string];
  const type = data[0]!;
  const publicKey = data.slice(1);
  const expected = KEY_LENGTH[type];
  if (expected === undefined) throw new TlogError('vkey_malformed', `vkey ${name}: signature type 0x${type.toString(16).padStart(2, '0')} is not one this verifier knows (0x01, 0x04, 0x06)`);
  if (publicKey.length !== expected) throw new TlogError('vkey_malformed', `vkey ${name}: a type 0x0${type} key is ${expected} bytes, not ${publicKey.length}`);
  const keyId = Number.parseInt(hex, 16);
  if (keyId !== noteKeyId(name, type, publicKey)) throw new TlogError('vkey_malformed', `vkey ${name}: the key ID ${hex} is not the one its key hashes to`);
  return { name, type, publicKey, keyId };
}

/** A note key ID as vkeys and witness state write it: 8 lowercase hex digits. */
export const keyIdHex = (keyId: number): string => keyId.toString(16).padStart(8, '0');

export function formatVkey(name: string, type: number, publicKey: Uint8Array): string {
  return `${name}+${keyIdHex(noteKeyId(name, type, publicKey))}+${toBase64(Uint8Array.of(type, ...publicKey))}`;
}

/** Whether two keys are the same underlying key (tlog-policy's duplicates: 0x01 and 0x04 wrap the same Ed25519 key). */
export function isSameKey(a: { type: number; publicKey: Uint8Array }, b: { type: number; publicKey: Uint8Array }): boolean {
  const family = (t: number) => (t === NOTE_TYPE.mldsa44 ? 'ml-dsa-44' : 'ed25519');
  return family(a.type) === family(b.type) && equalBytes(a.publicKey, b.publicKey);
}
