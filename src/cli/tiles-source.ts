// Reading a C2SP tlog-tiles log over HTTP, for `log mirror` and `log monitor --tiles`: the
// checkpoint verified against a pinned vkey, and tiles fetched several at a time (a first mirror
// of a large log reads thousands of small files; one at a time, the round trips dominate).
import { parseCheckpoint, type Checkpoint } from '../core/tlog/checkpoint.ts';
import { verifyCheckpoint } from '../core/tlog/log-note.ts';
import { parseSignedNote } from '../core/tlog/signed-note.ts';
import { NOTE_TYPE, parseVkey, type Vkey } from '../core/tlog/vkey.ts';
import { CliFailure, EXIT } from './exit-codes.ts';

/** Requests in flight at once: enough to hide a loopback or LAN round trip, few enough for any static host. */
export const FETCH_CONCURRENCY = 16;

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

/** A log's verifier key as given on the command line or pinned in a file: an Ed25519 (0x01) note key. */
export function logVkey(text: string): Vkey {
  let vkey: Vkey;
  try {
    vkey = parseVkey(text.trim());
  } catch (err) {
    throw new CliFailure(EXIT.usage, (err as Error).message);
  }
  if (vkey.type !== NOTE_TYPE.ed25519) throw new CliFailure(EXIT.usage, 'the log\'s verifier key must be an Ed25519 (type 0x01) note key');
  return vkey;
}

/** The body of a signed note's checkpoint, unverified (one this tool wrote and verified before). */
export const checkpointOfNote = (note: string): Checkpoint => parseCheckpoint(parseSignedNote(note).text);

/** Runs `fn` over `items`, `limit` at a time, in order of start; the first failure stops the rest. */
export async function inPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
