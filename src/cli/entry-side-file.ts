// What `log mirror` writes beside each entry bundle of a modelsign log, outside the tiles spec
// (README, "Transparency log"): per entry, the release it is listed under and the signed DSSE
// payload (GET /v1/log/entries without the leaf data, which is in the bundle), so a monitor that
// reads only the mirror checks each entry's content as it does against the service
// (core/tlog/entries/entry-content.ts). At `modelsign/entries/<N>[.p/<W>].json` under the prefix.
import type { Wire } from '../api/wire.ts';
import { fromBase64 } from '../core/bytes.ts';
import { entryContentProblem } from '../core/tlog/entries/entry-content.ts';
import { portableSha256 } from '../core/tlog/hash.ts';
import { formatTilePath, type TileAddress } from '../core/tlog/tile-path.ts';

type ServedEntry = Wire['LogEntries']['entries'][number];
export type SideEntry = Omit<ServedEntry, 'data' | 'leafHash' | 'body'>;

export const sideFilePath = (bundle: TileAddress): string => `modelsign/${formatTilePath(bundle)}.json`;

/** The side file of entries served by the service (its data already checked against the bundle). */
export function formatSideFile(entries: readonly ServedEntry[]): string {
  return `${JSON.stringify({ entries: entries.map(({ data: _data, leafHash: _leafHash, body: _body, ...rest }) => rest) })}\n`;
}

/**
 * Why entry `index` (leaf data `data`) does not commit to what the side file lists for it, or
 * undefined when it does; `side` is the side file's entry at that position (or missing).
 */
export function sideEntryProblem(index: number, data: Uint8Array, side: unknown): string | undefined {
  const e = side as Partial<SideEntry> | undefined;
  if (!e || typeof e !== 'object' || e.index !== index) return `entry ${index} is not in its side file`;
  const payload = typeof e.payload === 'string' ? fromBase64(e.payload) : undefined;
  if (!payload || !e.release || typeof e.release.model !== 'string' || typeof e.release.version !== 'string' || typeof e.payloadType !== 'string' || !e.kindVersion) {
    return `entry ${index}: its side file entry is malformed`;
  }
  const problem = entryContentProblem({ kindVersion: e.kindVersion, data, payloadType: e.payloadType, payload, release: e.release }, portableSha256);
  return problem && `entry ${index} (${e.release.model}@${e.release.version}): ${problem}`;
}

/** The entries of a side file, or undefined when it is not one. */
export function parseSideFile(bytes: Uint8Array): unknown[] | undefined {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { entries?: unknown };
    return Array.isArray(parsed.entries) ? parsed.entries : undefined;
  } catch {
    return undefined;
  }
}
