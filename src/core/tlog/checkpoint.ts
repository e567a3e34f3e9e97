// C2SP tlog-checkpoint note text: origin, tree size, base64 root hash, each on its own line.
// modelsign writes no extension lines (the spec advises against them: monitors cannot audit
// them); the time a checkpoint was made travels in a tlog-cosignature instead (log-note.ts).
import { fromBase64, toBase64 } from '../bytes.ts';
import { parseDecimal } from '../guards.ts';
import { HASH_SIZE } from './hash.ts';
import { TlogError } from './tlog-error.ts';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
}

export function formatCheckpoint(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${toBase64(c.rootHash)}\n`;
}

export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new TlogError('checkpoint_malformed', 'a checkpoint is at least three lines, each ending in a newline');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (origin === '') throw new TlogError('checkpoint_malformed', 'the checkpoint origin is empty');
  const size = parseDecimal(sizeText);
  if (size === undefined) throw new TlogError('checkpoint_malformed', `the tree size ${JSON.stringify(sizeText.slice(0, 40))} is not a decimal number without leading zeroes`);
  const rootHash = fromBase64(rootText);
  if (!rootHash || rootHash.length !== HASH_SIZE) throw new TlogError('checkpoint_malformed', 'the root hash is not base64 of 32 bytes');
  if (lines.slice(3, -1).some((l) => l === '')) throw new TlogError('checkpoint_malformed', 'extension lines must not be empty');
  return { origin, size, rootHash };
}
