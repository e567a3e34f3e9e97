// C2SP tlog-witness: the add-checkpoint request a log sends a witness, and what comes back. The
// request is `old <size>`, the consistency proof from that size (one base64 hash a line), a blank
// line, then the checkpoint note with the log's own signature lines only (witnesses cap the body:
// omniwitness at 16 KiB). A 200 answer is one or more note signature lines; a 409 of type
// text/x.tlog.size is the size the witness holds for the log. Pure: the client
// (services/witness-client.ts) does the HTTP, and the test witness (test/support) reads requests
// with the same functions.
import { fromBase64, toBase64 } from '../bytes.ts';
import { parseDecimal } from '../guards.ts';
import { HASH_SIZE } from './hash.ts';
import { parseSignatureLine, parseSignedNote, type NoteSignature } from './signed-note.ts';
import { TlogError } from './tlog-error.ts';

export const TLOG_SIZE_MEDIA_TYPE = 'text/x.tlog.size';
/** What omniwitness accepts at most; a log sends no more. */
export const MAX_ADD_CHECKPOINT_BYTES = 16 * 1024;

export interface AddCheckpoint {
  oldSize: number;
  proof: Uint8Array[];
  /** The checkpoint note, as the log signed it. */
  note: string;
}

export function formatAddCheckpoint(r: AddCheckpoint): string {
  return `old ${r.oldSize}\n${r.proof.map((h) => `${toBase64(h)}\n`).join('')}\n${r.note}`;
}

export function parseAddCheckpoint(body: string): AddCheckpoint {
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw new TlogError('note_malformed', 'an add-checkpoint body is "old N", proof lines, a blank line and the checkpoint');
  const [first, ...lines] = body.slice(0, blank).split('\n');
  const oldSize = first?.startsWith('old ') ? parseDecimal(first.slice(4)) : undefined;
  if (oldSize === undefined) throw new TlogError('note_malformed', 'the first line is not "old N"');
  if (lines.length > 63) throw new TlogError('note_malformed', 'more than 63 proof hashes');
  const proof = lines.map((l) => {
    const h = fromBase64(l);
    if (!h || h.length !== HASH_SIZE) throw new TlogError('note_malformed', 'a proof line is not base64 of 32 bytes');
    return h;
  });
  const note = body.slice(blank + 2);
  parseSignedNote(note);
  return { oldSize, proof, note };
}

/** The signature lines of a 200 answer (each `— name base64`), ignoring a final newline. */
export function parseCosignatureLines(body: string): { line: string; signature: NoteSignature }[] {
  const lines = body.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0 || lines.length > 100) throw new TlogError('note_malformed', 'a witness answers one to 100 signature lines');
  return lines.map((line) => ({ line, signature: parseSignatureLine(line) }));
}

/** The size in a 409 of type text/x.tlog.size: one decimal line. */
export function parseTlogSize(body: string): number {
  const size = /^[0-9]+\n?$/.test(body) ? parseDecimal(body.trim()) : undefined;
  if (size === undefined) throw new TlogError('note_malformed', `${JSON.stringify(body.slice(0, 40))} is not a tree size`);
  return size;
}

/**
 * Why a log origin cannot be witnessed, or undefined. Witnesses keep their state per origin and
 * pin one key for it: an origin every deployment may have (`localhost`, the 0.1 default
 * `modelsign.local/log`, a bare name without a dot, an IP address) would make this log's
 * checkpoints collide with another log's there.
 */
export function witnessOriginProblem(origin: string): string | undefined {
  const host = origin.split('/', 1)[0]!.toLowerCase();
  if (origin === 'modelsign.local/log') return 'it is the 0.1 default origin (modelsign.local/log), shared by every deployment that kept it';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'it is localhost';
  if (/^[0-9.]+$/.test(host) || host.includes(':') || host.startsWith('[')) return 'it is an IP address';
  if (!host.includes('.')) return 'its host name has no dot';
  return undefined;
}
