// What a C2SP witness answers an add-checkpoint request (tlog-witness.md), as pure decisions, so
// that `modelsign witness` (services/witness-server.ts) reads and stores state around them and
// the spec's table is tested without a database. In order:
// - a body that is not `old N`, up to 63 proof hashes, a blank line and a signed note: 400;
// - an origin it does not witness: 404;
// - no valid signature by the log's pinned key (other keys' lines are ignored): 403;
// - an old size larger than the checkpoint's: 400;
// - an old size other than the size it holds for the log (0 before the first): 409, with the size;
// - the same size as it holds, with another root, or with proof lines: 422;
// - from 0: proof lines (there is nothing to prove from the empty tree), or a size-0 checkpoint
//   whose root is not SHA-256 of nothing: 422;
// - otherwise a consistency proof from its size and root to the checkpoint that does not verify: 422.
// Anything else is cosigned (200) once the new state is stored.
import { equalBytes } from '../bytes.ts';
import type { PublicKey } from '../keys/key.ts';
import { parseAddCheckpoint, type AddCheckpoint } from './add-checkpoint.ts';
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import type { LogHasher } from './hash.ts';
import { verifyCheckpoint } from './log-note.ts';
import { parseSignedNote } from './signed-note.ts';
import { verifyConsistency } from './verify-proof.ts';

/** What the witness holds for a log: the newest checkpoint it cosigned. */
export interface WitnessedState {
  size: number;
  rootHash: Uint8Array;
}

export type WitnessRefusal = { status: 400 | 403 | 404 | 422; reason: string } | { status: 409; reason: string; size: number };

/** A request whose body parsed and whose checkpoint the log's key signed. */
export interface AuthenticRequest {
  request: AddCheckpoint;
  checkpoint: Checkpoint;
  /** The checkpoint's text (what a cosignature/v1 signs). */
  text: string;
}

/** Parses the body and checks the log's signature: a refusal, or the authenticated request. */
export function authenticateAddCheckpoint(body: string, logKey: (origin: string) => PublicKey | undefined): WitnessRefusal | AuthenticRequest {
  let request: AddCheckpoint;
  let text: string;
  let checkpoint: Checkpoint;
  try {
    request = parseAddCheckpoint(body);
    text = parseSignedNote(request.note).text;
    checkpoint = parseCheckpoint(text);
  } catch (err) {
    return { status: 400, reason: `not an add-checkpoint request: ${(err as Error).message}` };
  }
  const key = logKey(checkpoint.origin);
  if (!key) return { status: 404, reason: `this witness does not witness ${checkpoint.origin}` };
  try {
    verifyCheckpoint(request.note, key);
  } catch {
    return { status: 403, reason: `the checkpoint carries no valid signature by the key of ${checkpoint.origin} this witness holds` };
  }
  return { request, checkpoint, text };
}

/** Whether the authenticated request may be cosigned over `held` (undefined: the log was never cosigned). */
export function judgeAddCheckpoint(r: AuthenticRequest, held: WitnessedState | undefined, hasher: LogHasher): WitnessRefusal | undefined {
  const { request, checkpoint } = r;
  const size = held?.size ?? 0;
  if (request.oldSize > checkpoint.size) return { status: 400, reason: `old size ${request.oldSize} is larger than the checkpoint's ${checkpoint.size}` };
  if (request.oldSize !== size) return { status: 409, reason: `this witness holds size ${size} for ${checkpoint.origin}, not ${request.oldSize}`, size };
  if (held && checkpoint.size === held.size) {
    if (!equalBytes(checkpoint.rootHash, held.rootHash)) return { status: 422, reason: `size ${held.size} with another root hash than the one this witness cosigned: a fork` };
    if (request.proof.length > 0) return { status: 422, reason: 'a proof between equal sizes must be empty' };
    return undefined;
  }
  if (size === 0) {
    if (request.proof.length > 0) return { status: 422, reason: 'a proof from size 0 must be empty' };
    if (checkpoint.size === 0 && !equalBytes(checkpoint.rootHash, hasher.emptyRoot())) return { status: 422, reason: 'the empty tree\'s root hash is SHA-256 of nothing' };
    return undefined;
  }
  try {
    verifyConsistency(size, checkpoint.size, request.proof, held!.rootHash, checkpoint.rootHash, hasher);
  } catch (err) {
    return { status: 422, reason: `the consistency proof from ${size} to ${checkpoint.size} does not verify: ${(err as Error).message}` };
  }
  return undefined;
}

export const isRefusal = (x: WitnessRefusal | AuthenticRequest): x is WitnessRefusal => 'status' in x;
