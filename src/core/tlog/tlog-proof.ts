// C2SP tlog-proof: an offline proof that an entry is in a log, as a text file: the header line,
// an optional `extra <base64>` line (unauthenticated: modelsign writes none and ignores it), an
// `index N` line, the inclusion proof (one base64 hash per line), a blank line, and the
// checkpoint note verbatim with its cosignatures. modelsign uses it for witness evidence beside
// a bundle, whose own checkpoint (the first covering the entry, which dates it) is rarely the
// one witnesses cosigned.
import { fromBase64, toBase64 } from '../bytes.ts';
import { parseDecimal } from '../guards.ts';
import { HASH_SIZE } from './hash.ts';
import { MAX_NOTE_BYTES } from './signed-note.ts';
import { TlogError } from './tlog-error.ts';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
/** The proof's name in a release folder; beside a single file F it is `F.sig.tlog-proof`. */
export const PROOF_FILE_NAME = 'model.sig.tlog-proof';

export interface TlogProof {
  index: number;
  proof: Uint8Array[];
  /** The checkpoint note, verbatim. */
  note: string;
  extra?: Uint8Array;
}

function refuse(message: string): never {
  throw new TlogError('tlog_proof_malformed', message);
}

export function parseTlogProof(text: string): TlogProof {
  if (typeof text !== 'string' || text.length > MAX_NOTE_BYTES + 8 * 1024) refuse('a tlog-proof is text of at most 264 KiB');
  const blank = text.indexOf('\n\n');
  if (blank < 0) refuse('a tlog-proof needs its header, index and proof lines, a blank line, then the checkpoint');
  const lines = text.slice(0, blank).split('\n');
  const note = text.slice(blank + 2);
  if (lines.shift() !== TLOG_PROOF_HEADER) refuse(`a tlog-proof starts with the line ${TLOG_PROOF_HEADER}`);
  let extra: Uint8Array | undefined;
  if (lines[0]?.startsWith('extra ')) {
    extra = fromBase64(lines.shift()!.slice(6));
    if (!extra) refuse('the extra line is not base64');
  }
  const indexLine = lines.shift();
  const index = indexLine?.startsWith('index ') ? parseDecimal(indexLine.slice(6)) : undefined;
  if (index === undefined) refuse('the index line is not "index N" with N a decimal without leading zeroes');
  if (lines.length > 63) refuse(`${lines.length} proof hashes; a proof in a tree of fewer than 2^63 entries has at most 63`);
  const proof = lines.map((l, i) => {
    const h = fromBase64(l);
    if (!h || h.length !== HASH_SIZE) refuse(`proof line ${i + 1} is not base64 of ${HASH_SIZE} bytes`);
    return h;
  });
  return { index, proof, note, ...(extra ? { extra } : {}) };
}

export function formatTlogProof(p: TlogProof): string {
  const extra = p.extra ? `extra ${toBase64(p.extra)}\n` : '';
  return `${TLOG_PROOF_HEADER}\n${extra}index ${p.index}\n${p.proof.map((h) => `${toBase64(h)}\n`).join('')}\n${p.note}`;
}
