// Reading a C2SP tlog-tiles log over HTTP, for `log mirror` and `log monitor --tiles`: resources
// under the log's prefix (an answer other than 200 is exit 5; a 404 may be asked for as absent),
// and the checkpoint verified against a pinned note key.
import type { Checkpoint } from '../core/tlog/checkpoint.ts';
import { verifyCheckpoint } from '../core/tlog/log-note.ts';
import type { Vkey } from '../core/tlog/vkey.ts';
import { logVkey as parseLogVkey, MirrorError } from '../services/tiles-mirror.ts';
import { CliFailure, EXIT } from './exit-codes.ts';

export class TilesSource {
  constructor(readonly base: string) {}

  /** The resource at `rel` under the prefix; undefined on 404 when `optional`, else exit 5 on anything but 200. */
  async bytes(rel: string, optional: true): Promise<Uint8Array | undefined>;
  async bytes(rel: string, optional?: false): Promise<Uint8Array>;
  async bytes(rel: string, optional = false): Promise<Uint8Array | undefined> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/${rel}`, { signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      throw new CliFailure(EXIT.service, `cannot read ${this.base}/${rel}: ${(err as Error).message}`);
    }
    if (optional && res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new CliFailure(EXIT.service, `${this.base}/${rel} answered ${res.status}`);
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  /** The checkpoint, verified with the log's note key; exit 3 when it is not signed by it. */
  async checkpoint(vkey: Vkey): Promise<{ note: string; checkpoint: Checkpoint }> {
    const note = new TextDecoder().decode(await this.bytes('checkpoint'));
    try {
      return { note, checkpoint: verifyCheckpoint(note, { algorithm: 'Ed25519', publicKey: vkey.publicKey }) };
    } catch (err) {
      throw new CliFailure(EXIT.untrusted, `${this.base}/checkpoint is not signed by ${vkey.name}'s key: ${(err as Error).message}`);
    }
  }
}

/** A log's verifier key as given on the command line or pinned in a file (exit 2 when it is not an Ed25519 note key). */
export function logVkey(text: string): Vkey {
  try {
    return parseLogVkey(text);
  } catch (err) {
    if (err instanceof MirrorError) throw new CliFailure(EXIT.usage, err.message);
    throw err;
  }
}
