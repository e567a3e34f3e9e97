// Whether this log may append. A database restored from a backup older than a checkpoint the log
// already published (cosigned by witnesses, cached by CDNs) would grow a different tree under the
// same immutable URLs: a fork. Once there is evidence (a checkpoint of ours, signed by one of our
// log keys, larger than the tree here), appending stops: signing answers 503 log_behind_published,
// reads go on, /readyz reports it. A bare number (a witness's 409 saying it holds a larger size)
// is no evidence: it only raises an alarm, so no witness can stop the log.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelsignError } from '../core/errors.ts';
import type { PublicKey } from '../core/keys/key.ts';
import { verifyCheckpoint } from '../core/tlog/log-note.ts';

export interface PublishedAhead {
  /** The size of the published checkpoint, larger than the tree here. */
  size: number;
  /** The tree here. */
  treeSize: number;
  /** Where the checkpoint was found (a witness's monitoring endpoint). */
  source: string;
}

export class AppendGuard {
  private ahead: PublishedAhead | undefined;

  /** The evidence, once found (it is not forgotten: a person restores the newer data, or starts a new log). */
  get publishedAhead(): PublishedAhead | undefined {
    return this.ahead;
  }

  stop(evidence: PublishedAhead): void {
    this.ahead ??= evidence;
  }

  assertCanAppend(): void {
    const a = this.ahead;
    if (a) {
      throw new ModelsignError(
        'log_behind_published',
        `this log published a checkpoint of size ${a.size} (${a.source}) but its database holds a tree of ${a.treeSize}: it was restored from an older backup, and appending would fork the log; restore the newest data, or start a new log (README, "Witnesses")`,
      );
    }
  }
}

/**
 * Reads a mirror's checkpoint (`<url>/checkpoint`, what `log mirror` writes last) and stops
 * appending when one of the log's keys signed it for a tree larger than `treeSize`. A mirror that
 * does not answer, or holds a checkpoint no key of ours signed, proves nothing.
 */
export async function checkMirror(url: string, origin: string, logKeys: readonly PublicKey[], treeSize: number, guard: AppendGuard, fetchImpl: typeof fetch = fetch): Promise<PublishedAhead | undefined> {
  let note: string;
  try {
    const res = await fetchImpl(`${url}/checkpoint`, { signal: AbortSignal.timeout(5_000) });
    if (res.status !== 200) return undefined;
    note = (await res.text()).slice(0, 512 * 1024);
  } catch {
    return undefined;
  }
  return checkPublishedNote(note, `the mirror at ${url}`, origin, logKeys, treeSize, guard);
}

/** The same for a mirror folder this service keeps (MODELSIGN_MIRROR_DIR): its `checkpoint` file. */
export async function checkMirrorFolder(dir: string, origin: string, logKeys: readonly PublicKey[], treeSize: number, guard: AppendGuard): Promise<PublishedAhead | undefined> {
  let note: string;
  try {
    note = (await readFile(path.join(dir, 'checkpoint'), 'utf8')).slice(0, 512 * 1024);
  } catch {
    return undefined;
  }
  return checkPublishedNote(note, `the mirror folder ${dir}`, origin, logKeys, treeSize, guard);
}

function checkPublishedNote(note: string, source: string, origin: string, logKeys: readonly PublicKey[], treeSize: number, guard: AppendGuard): PublishedAhead | undefined {
  for (const key of logKeys) {
    let checkpoint;
    try {
      checkpoint = verifyCheckpoint(note, key);
    } catch {
      continue;
    }
    if (checkpoint.origin !== origin || checkpoint.size <= treeSize) return undefined;
    const ahead = { size: checkpoint.size, treeSize, source };
    guard.stop(ahead);
    return ahead;
  }
  return undefined;
}
