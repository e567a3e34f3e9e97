// What a witnessed log serves as its checkpoint (GET /v1/log/checkpoint, the tiles' checkpoint,
// and the bound of every proof and tile): the newest checkpoint whose stored cosignatures meet the
// operator's quorum, once one exists; before that, the newest log-signed one. It never serves a
// smaller size than it (or any instance) served before (tlog_served), so it switches to witnessed
// checkpoints only forward: a monitor that saw size 100 log-signed is never shown a witnessed 95.
// The served note carries the cosignatures. A release's witness proof (C2SP tlog-proof) is its
// entry's inclusion in the served checkpoint once that one meets the quorum.
import { ModelsignError } from '../core/errors.ts';
import { parseCheckpoint } from '../core/tlog/checkpoint.ts';
import { formatTlogProof } from '../core/tlog/tlog-proof.ts';
import { meetsQuorum, type WitnessPolicy } from '../core/tlog/witness-policy.ts';
import type { Database } from '../db/client.ts';
import { latestCheckpoint } from '../db/log-store.ts';
import { checkpointOf, cosignaturesFrom, raiseServedSize, servedSize, type CosignatureRow } from '../db/witness-store.ts';
import type { LogReader, StoredCheckpoint } from './log-reader.ts';

export interface ServedCheckpoint extends StoredCheckpoint {
  /** Whether its cosignatures meet the quorum. */
  witnessed: boolean;
}

export class WitnessedLog {
  /** The largest size this instance knows was served (read from the database once, raised as it serves). */
  private floor: number | undefined;

  constructor(
    private readonly db: Database,
    private readonly log: LogReader,
    private readonly policy: WitnessPolicy,
    /** The key ID (8 hex) each configured witness's cosignatures are stored under, by policy name. */
    private readonly keyIds: ReadonlyMap<string, string>,
  ) {}

  /** The checkpoint to serve now (see the header). */
  async served(): Promise<ServedCheckpoint> {
    const newest = await latestCheckpoint(this.db);
    if (!newest) throw new ModelsignError('unavailable', 'the log has no signed checkpoint yet');
    this.floor ??= await servedSize(this.db);
    const rows = (await cosignaturesFrom(this.db, newest.kid, this.floor)).filter((r) => this.keyIds.get(r.witness) === r.keyId);
    const bySize = new Map<number, CosignatureRow[]>();
    for (const r of rows) bySize.set(r.size, [...(bySize.get(r.size) ?? []), r]);
    let chosen: { size: number; note: string; timestamp: number; kid: string } = newest;
    let witnessed = false;
    for (const [size, cosigs] of bySize) {
      if (size < this.floor || !meetsQuorum(this.policy, new Set(cosigs.map((c) => c.witness)))) continue;
      const row = size === newest.size ? newest : await checkpointOf(this.db, size, newest.kid);
      if (!row) continue;
      chosen = row;
      witnessed = true;
      break;
    }
    const lines = (bySize.get(chosen.size) ?? []).map((c) => `${c.line}\n`).join('');
    if (chosen.size > this.floor) this.floor = await raiseServedSize(this.db, chosen.size);
    const text = chosen.note.slice(0, chosen.note.lastIndexOf('\n\n') + 1);
    const checkpoint = parseCheckpoint(text);
    return { ...checkpoint, note: chosen.note + lines, timestamp: chosen.timestamp, kid: chosen.kid, coversFrom: null, witnessed };
  }

  /** Whether a witnessed checkpoint served covers entry `index` (its proof exists). */
  async covers(index: number): Promise<boolean> {
    const served = await this.served();
    return served.witnessed && served.size > index;
  }

  /** The C2SP tlog-proof of entry `index` in the served checkpoint, or undefined until a witnessed one covers it. */
  async proofFor(index: number): Promise<string | undefined> {
    const served = await this.served();
    if (!served.witnessed || served.size <= index) return undefined;
    const proof = await this.log.inclusionProof(index, served.size);
    return formatTlogProof({ index, proof, note: served.note });
  }
}
