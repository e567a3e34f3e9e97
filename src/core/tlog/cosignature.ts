// C2SP tlog-cosignature: a witness's note signature line on a checkpoint, `keyID || u64 timestamp
// || signature`, of one of two types:
// - Ed25519 cosignature/v1 (key ID type 0x04) over "cosignature/v1\ntime <T>\n" + the checkpoint
//   text (extension lines included), the message the log's own timestamp line also uses;
// - ML-DSA-44 (type 0x06, pure ML-DSA with an empty context) over the TLS struct `subtree/v1`:
//   the cosigner's name, the timestamp, the origin, start 0, end = tree size and the root hash.
// A witness vkey of type 0x01 (a plain Ed25519 note key, as some policies write them) names the
// same key; its cosignatures are still identified by the 0x04 key ID (transparency-dev/formats
// does the same).
import { ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import { concatBytes, toBase64, utf8 } from '../bytes.ts';
import { verifySignature } from '../crypto/public-key.ts';
import type { Checkpoint } from './checkpoint.ts';
import { cosignedMessage } from './log-note.ts';
import { noteKeyId } from './signed-note.ts';
import { TlogError } from './tlog-error.ts';
import { NOTE_TYPE, type Vkey } from './vkey.ts';

/**
 * How far ahead of the verifier's clock a cosignature's timestamp may be, in seconds. A later one
 * is refused: a witness does not sign the future, and clocks a few minutes apart are common. The
 * Python client uses the same allowance.
 */
export const COSIGNATURE_CLOCK_ALLOWANCE_SECONDS = 600;

const SIGNATURE_LENGTH: Readonly<Record<number, number>> = { [NOTE_TYPE.cosignatureV1]: 64, [NOTE_TYPE.mldsa44]: 2420 };

export interface WitnessKey {
  /** The name the witness signs under (its vkey's key name). */
  name: string;
  type: typeof NOTE_TYPE.cosignatureV1 | typeof NOTE_TYPE.mldsa44;
  publicKey: Uint8Array;
  /** The key ID its cosignature lines carry. */
  keyId: number;
}

export function witnessKeyOf(vkey: Vkey): WitnessKey {
  if (vkey.type === NOTE_TYPE.mldsa44) return { name: vkey.name, type: NOTE_TYPE.mldsa44, publicKey: vkey.publicKey, keyId: vkey.keyId };
  if (vkey.type !== NOTE_TYPE.ed25519 && vkey.type !== NOTE_TYPE.cosignatureV1) {
    throw new TlogError('vkey_malformed', `vkey ${vkey.name}: type 0x0${vkey.type} is not a cosignature key`);
  }
  return { name: vkey.name, type: NOTE_TYPE.cosignatureV1, publicKey: vkey.publicKey, keyId: noteKeyId(vkey.name, NOTE_TYPE.cosignatureV1, vkey.publicKey) };
}

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function u8Prefixed(text: string): Uint8Array {
  const bytes = utf8(text);
  if (bytes.length < 1 || bytes.length > 255) throw new TlogError('cosignature_invalid', `${JSON.stringify(text.slice(0, 40))} must be 1 to 255 bytes in a subtree/v1 message`);
  return concatBytes(Uint8Array.of(bytes.length), bytes);
}

/** The ML-DSA-44 signed message for a checkpoint (start 0, end = size). */
export function subtreeMessage(cosigner: string, timestamp: number, checkpoint: Checkpoint): Uint8Array {
  return concatBytes(utf8('subtree/v1\n\0'), u8Prefixed(cosigner), u64(timestamp), u8Prefixed(checkpoint.origin), u64(0), u64(checkpoint.size), checkpoint.rootHash);
}

/** A cosignature's note signature line: `— <name> base64(key ID || u64 timestamp || signature)`. */
export function formatCosignatureLine(key: WitnessKey, timestamp: number, signature: Uint8Array): string {
  const id = new Uint8Array(4);
  new DataView(id.buffer).setUint32(0, key.keyId);
  return `\u2014 ${key.name} ${toBase64(concatBytes(id, u64(timestamp), signature))}`;
}

/** The message a witness key signs over this checkpoint at `timestamp`. */
export function cosignatureMessage(key: WitnessKey, timestamp: number, checkpoint: Checkpoint, checkpointText: string): Uint8Array {
  return key.type === NOTE_TYPE.mldsa44 ? subtreeMessage(key.name, timestamp, checkpoint) : cosignedMessage(timestamp, checkpointText);
}

/**
 * Checks one cosignature (the bytes after the key ID) by `key` over the checkpoint and returns its
 * timestamp. Throws TlogError('cosignature_invalid') for a wrong length, a bad signature or a
 * timestamp more than the allowance ahead of `nowSeconds`.
 */
export function verifyCosignature(key: WitnessKey, signature: Uint8Array, checkpoint: Checkpoint, checkpointText: string, nowSeconds: number): number {
  const length = 8 + SIGNATURE_LENGTH[key.type]!;
  if (signature.length !== length) throw new TlogError('cosignature_invalid', `the cosignature of ${key.name} is ${signature.length} bytes, not ${length}`);
  const ts = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
  if (ts > BigInt(Number.MAX_SAFE_INTEGER)) throw new TlogError('cosignature_invalid', `the cosignature of ${key.name} has an out-of-range timestamp`);
  const timestamp = Number(ts);
  const message = cosignatureMessage(key, timestamp, checkpoint, checkpointText);
  const raw = signature.subarray(8);
  const ok = key.type === NOTE_TYPE.mldsa44 ? ml_dsa44.verify(raw, message, key.publicKey) : verifySignature({ algorithm: 'Ed25519', publicKey: key.publicKey }, raw, message);
  if (!ok) throw new TlogError('cosignature_invalid', `the cosignature of ${key.name} does not verify`);
  if (timestamp > nowSeconds + COSIGNATURE_CLOCK_ALLOWANCE_SECONDS) {
    throw new TlogError('cosignature_invalid', `the cosignature of ${key.name} is dated ${new Date(timestamp * 1000).toISOString()}, more than ${COSIGNATURE_CLOCK_ALLOWANCE_SECONDS / 60} minutes ahead of this verifier's clock`);
  }
  return timestamp;
}
