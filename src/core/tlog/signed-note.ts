// C2SP signed-note: text, a blank line, then "— <name> base64(keyID || signature)" lines.
// Key IDs are SHA-256(name || "\n" || type || public key)[:4]; the signature types of an
// algorithm are in its registry record (core/crypto).
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from '../bytes.ts';
import { TlogError } from './tlog-error.ts';

// Room for witnesses: 100 lines is the limit of Go's note.Open, and 256 KiB holds 32 ML-DSA-44
// cosignatures (about 3.3 KB each) with the log's own lines many times over.
export const MAX_NOTE_SIGNATURES = 100;
export const MAX_NOTE_BYTES = 256 * 1024;

export interface NoteSignature {
  name: string;
  /** The 32-bit key ID, big-endian, as a number. */
  keyId: number;
  /** The bytes after the key ID. */
  signature: Uint8Array;
}

export interface SignedNote {
  text: string;
  signatures: NoteSignature[];
}

export function isKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !/[\x00-\x1f]/.test(name);
}

export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const h = sha256(concatBytes(utf8(name), new Uint8Array([0x0a, type]), publicKey));
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

export function formatSignedNote(note: SignedNote): string {
  if (!note.text.endsWith('\n')) throw new TlogError('note_malformed', 'note text must end with a newline');
  let out = note.text + '\n';
  for (const s of note.signatures) {
    if (!isKeyName(s.name)) throw new TlogError('note_malformed', `bad key name ${JSON.stringify(s.name)}`);
    const id = new Uint8Array([s.keyId >>> 24, (s.keyId >>> 16) & 0xff, (s.keyId >>> 8) & 0xff, s.keyId & 0xff]);
    out += `\u2014 ${s.name} ${toBase64(concatBytes(id, s.signature))}\n`;
  }
  return out;
}

export function parseSignedNote(note: string): SignedNote {
  if (typeof note !== 'string' || utf8(note).length > MAX_NOTE_BYTES) throw new TlogError('note_malformed', `a note must be a string of at most ${MAX_NOTE_BYTES} bytes`);
  if (/[\x00-\x09\x0b-\x1f]/.test(note)) throw new TlogError('note_malformed', 'a note must not contain control characters other than newline');
  if (fromUtf8(utf8(note)) !== note) throw new TlogError('note_malformed', 'a note must be valid UTF-8');
  // The text is separated from the signatures by the last blank line.
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new TlogError('note_malformed', 'a note needs text, a blank line and signature lines, each ending in a newline');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw new TlogError('note_malformed', `more than ${MAX_NOTE_SIGNATURES} signatures`);
  return { text, signatures: lines.map(parseSignatureLine) };
}

/** One signature line (`— <name> base64(keyID || signature)`, without its newline). */
export function parseSignatureLine(line: string): NoteSignature {
  const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
  const raw = m ? fromBase64(m[2]!) : undefined;
  if (!m || !raw || raw.length < 5 || !isKeyName(m[1]!)) throw new TlogError('note_malformed', `bad signature line ${JSON.stringify(line.slice(0, 120))}`);
  return { name: m[1]!, keyId: ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0, signature: raw.slice(4) };
}
