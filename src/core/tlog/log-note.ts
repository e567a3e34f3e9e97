// The log's signed checkpoints. Each checkpoint note carries two signatures by the `log` key,
// both under the key name = origin, of the types the key's algorithm record names (for
// Ed25519, the only algorithm C2SP defines both for):
// - the C2SP signed-note signature over the checkpoint text (type 0x01), which is what every
//   C2SP client checks;
// - a C2SP tlog-cosignature (timestamped signature, type 0x04) over
//   "cosignature/v1\ntime <unix seconds>\n" + the checkpoint text. It is the log's own signed
//   statement of when it made the checkpoint, and so the trusted upper bound on when every entry
//   in it was logged: revocation's clock. The two messages cannot be confused, because a
//   checkpoint's second line is a bare number and a cosigned message's is "time N".
// Clients that know only signed-note ignore the second line (its key ID differs), as the spec
// requires them to.
import { concatBytes, utf8 } from '../bytes.ts';
import type { SignatureAlgorithm, SignatureVerifier, Signer } from '../crypto/algorithm.ts';
import { verifySignature } from '../crypto/public-key.ts';
import { algorithmOf } from '../crypto/registry.ts';
import type { PublicKey } from '../keys/key.ts';
import { formatCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { formatSignedNote, noteKeyId, parseSignedNote, type SignedNote } from './signed-note.ts';
import { TlogError } from './tlog-error.ts';

export interface SignedCheckpoint extends Checkpoint {
  /** The whole signed note, as published. */
  note: string;
  /** The cosignature's POSIX time in seconds, or null when the note has none from this key. */
  timestamp: number | null;
}

export function cosignedMessage(timestamp: number, checkpointText: string): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`);
}

function timestampBytes(timestamp: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(timestamp));
  return out;
}

function noteTypes(alg: SignatureAlgorithm): { signature: number; cosignature: number } {
  if (!alg.note) throw new TlogError('note_malformed', `C2SP notes have no signature type for ${alg.id} keys`);
  return alg.note;
}

export async function signCheckpoint(checkpoint: Checkpoint, signer: Signer, timestamp: number): Promise<string> {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TlogError('checkpoint_malformed', `bad timestamp ${timestamp}`);
  const types = noteTypes(algorithmOf(signer.algorithm));
  const text = formatCheckpoint(checkpoint);
  const name = checkpoint.origin;
  const [signature, cosignature] = await Promise.all([signer.sign(utf8(text)), signer.sign(cosignedMessage(timestamp, text))]);
  return formatSignedNote({
    text,
    signatures: [
      { name, keyId: noteKeyId(name, types.signature, signer.publicKey), signature },
      { name, keyId: noteKeyId(name, types.cosignature, signer.publicKey), signature: concatBytes(timestampBytes(timestamp), cosignature) },
    ],
  });
}

/**
 * Checks a checkpoint note against one log public key. Throws TlogError: 'note_malformed' or
 * 'checkpoint_malformed' for bad text, 'note_unverified' when the key did not sign it or one of
 * its signatures fails. `parsed` is for a caller that has already parsed this very note (to find
 * its key by origin): it must be parseSignedNote(note), since the note is what is returned.
 */
export function verifyCheckpoint(note: string, key: PublicKey, verify: SignatureVerifier = verifySignature, parsed: SignedNote = parseSignedNote(note)): SignedCheckpoint {
  const checkpoint = parseCheckpoint(parsed.text);
  const name = checkpoint.origin;
  const alg = algorithmOf(key.algorithm);
  const types = noteTypes(alg);
  const noteId = noteKeyId(name, types.signature, key.publicKey);
  const cosigId = noteKeyId(name, types.cosignature, key.publicKey);
  const signatureLength = alg.signatureLength.max;
  const text = utf8(parsed.text);
  let signed = false;
  let timestamp: number | null = null;
  for (const s of parsed.signatures) {
    if (s.name !== name) continue;
    if (s.keyId === noteId) {
      if (!verify(key, s.signature, text)) throw new TlogError('note_unverified', 'the checkpoint signature does not verify with the log key');
      signed = true;
    } else if (s.keyId === cosigId) {
      if (s.signature.length !== 8 + signatureLength) throw new TlogError('note_unverified', `the timestamp cosignature is not ${8 + signatureLength} bytes`);
      const ts = new DataView(s.signature.buffer, s.signature.byteOffset, 8).getBigUint64(0);
      if (ts > BigInt(Number.MAX_SAFE_INTEGER)) throw new TlogError('note_unverified', 'the cosignature timestamp is out of range');
      if (!verify(key, s.signature.slice(8), cosignedMessage(Number(ts), parsed.text))) {
        throw new TlogError('note_unverified', 'the timestamp cosignature does not verify with the log key');
      }
      timestamp = Number(ts);
    }
  }
  if (!signed) throw new TlogError('note_unverified', `the checkpoint carries no signature by this log key (name ${name})`);
  return { ...checkpoint, note, timestamp };
}
