// The log's identity as Sigstore clients know it: the C2SP signed-note key ID of the log key, all
// 32 bytes, SHA-256(origin || "\n" || signature type || raw public key) (rekor-tiles
// `note.KeyHash`). It is the bundle's `logId.keyId` and the trusted root's `logId`; its first
// four bytes are the key hint of the checkpoint's signature line, which is how sigstore-js and
// sigstore-python match a note to a log, and sigstore-go looks the log up by the whole ID.
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from '../bytes.ts';
import { algorithmOf } from '../crypto/registry.ts';
import type { PublicKey } from '../keys/key.ts';
import { TlogError } from './tlog-error.ts';

/**
 * Whether a log's origin is the host name of the public URL, as sigstore-go and cosign require
 * (they compare it with the host of the trusted root's baseUrl).
 */
export function isHostOrigin(origin: string, publicUrl: string): boolean {
  return new URL(publicUrl).hostname === origin;
}

export function logIdOf(origin: string, key: PublicKey): Uint8Array {
  const note = algorithmOf(key.algorithm).note;
  if (!note) throw new TlogError('note_malformed', `C2SP notes have no signature type for ${key.algorithm} keys`);
  return sha256(concatBytes(utf8(origin), new Uint8Array([0x0a, note.signature]), key.publicKey));
}
