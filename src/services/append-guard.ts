// Whether this log may append. A database restored from a backup older than a checkpoint the log
// already published (cosigned by witnesses, cached by CDNs) would grow a different tree under the
// same immutable URLs: a fork. Once there is evidence (a checkpoint of ours, signed by one of our
// log keys, larger than the tree here), appending stops: signing answers 503 log_behind_published,
// reads go on, /readyz reports it. A bare number (a witness's 409 saying it holds a larger size)
// is no evidence: it only raises an alarm, so no witness can stop the log.
import { ModelsignError } from '../core/errors.ts';

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
