// The log's signed checkpoints. Each checkpoint note carries two signatures by the `log` key,
// both under the key name = origin:
// - type 0x01, the C2SP signed-note Ed25519 signature over the checkpoint text, which is what
//   every C2SP client checks;
// - type 0x04, a C2SP tlog-cosignature (timestamped Ed25519) over
//   "cosignature/v1\ntime <unix seconds>\n" + the checkpoint text. It is the log's own signed
//   statement of when it made the checkpoint, and so the trusted upper bound on when every entry
//   in it was logged: revocation's clock. The two messages cannot be confused, because a
//   checkpoint's second line is a bare number and a cosigned message's is "time N".
// Clients that know only signed-note ignore the second line (its key ID differs), as the spec
// requires them to.
import { concatBytes, utf8 } from '../bytes.ts';
import { ed25519Verify } from '../ed25519.ts';
import { formatCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { formatSignedNote, noteKeyId, parseSignedNote, SIGNATURE_TYPE_COSIGNATURE, SIGNATURE_TYPE_ED25519 } from './signed-note.ts';
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

export function signCheckpoint(
  checkpoint: Checkpoint,
  key: { publicKey: Uint8Array; sign: (message: Uint8Array) => Uint8Array },
  timestamp: number,
): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TlogError('checkpoint_malformed', `bad timestamp ${timestamp}`);
  const text = formatCheckpoint(checkpoint);
  const name = checkpoint.origin;
  return formatSignedNote({
    text,
    signatures: [
      { name, keyId: noteKeyId(name, SIGNATURE_TYPE_ED25519, key.publicKey), signature: key.sign(utf8(text)) },
      {
        name,
        keyId: noteKeyId(name, SIGNATURE_TYPE_COSIGNATURE, key.publicKey),
        signature: concatBytes(timestampBytes(timestamp), key.sign(cosignedMessage(timestamp, text))),
      },
    ],
  });
}

/**
 * Checks a checkpoint note against one log public key. Throws TlogError: 'note_malformed' or
 * 'checkpoint_malformed' for bad text, 'note_unverified' when the key did not sign it or one of
 * its signatures fails.
 */
export function verifyCheckpoint(note: string, publicKey: Uint8Array): SignedCheckpoint {
  const parsed = parseSignedNote(note);
  const checkpoint = parseCheckpoint(parsed.text);
  const name = checkpoint.origin;
  const noteId = noteKeyId(name, SIGNATURE_TYPE_ED25519, publicKey);
  const cosigId = noteKeyId(name, SIGNATURE_TYPE_COSIGNATURE, publicKey);
  const text = utf8(parsed.text);
  let signed = false;
  let timestamp: number | null = null;
  for (const s of parsed.signatures) {
    if (s.name !== name) continue;
    if (s.keyId === noteId) {
      if (!ed25519Verify(s.signature, text, publicKey)) throw new TlogError('note_unverified', 'the checkpoint signature does not verify with the log key');
      signed = true;
    } else if (s.keyId === cosigId) {
      if (s.signature.length !== 8 + 64) throw new TlogError('note_unverified', 'the timestamp cosignature is not 72 bytes');
      const ts = new DataView(s.signature.buffer, s.signature.byteOffset, 8).getBigUint64(0);
      if (ts > BigInt(Number.MAX_SAFE_INTEGER)) throw new TlogError('note_unverified', 'the cosignature timestamp is out of range');
      if (!ed25519Verify(s.signature.slice(8), cosignedMessage(Number(ts), parsed.text), publicKey)) {
        throw new TlogError('note_unverified', 'the timestamp cosignature does not verify with the log key');
      }
      timestamp = Number(ts);
    }
  }
  if (!signed) throw new TlogError('note_unverified', `the checkpoint carries no signature by this log key (name ${name})`);
  return { ...checkpoint, note, timestamp };
}
