// What `log mirror` writes beside each entry bundle of a modelsign log, outside the tiles spec
// (README, "Transparency log"): per entry, the release it is listed under and the signed DSSE
// payload (what GET /v1/log/entries lists, without the leaf data, which is in the bundle), so a
// monitor that reads only the mirror checks each entry's content as it does against the service
// (entries/entry-content.ts). At `modelsign/entries/<N>[.p/<W>].json` under the tiles prefix.
import { fromBase64, toBase64 } from '../bytes.ts';
import { entryContentProblem, type LogEntry } from './entries/entry-content.ts';
import type { KindVersion } from './entries/entry-kind.ts';
import type { Sha256 } from './hash.ts';
import { formatTilePath, type TileAddress } from './tile-path.ts';

/** One entry of a side file (the fields of GET /v1/log/entries but the leaf data, its hash and body). */
export interface SideEntry {
  index: number;
  signatureId: string;
  kindVersion: Readonly<KindVersion>;
  release: { model: string; version: string };
  payloadType: string;
  /** The signed DSSE payload, base64. */
  payload: string;
  kid: string;
  /** ISO 8601. */
  signedAt: string;
}

export const sideFilePath = (bundle: TileAddress): string => `modelsign/${formatTilePath(bundle)}.json`;

/** A side entry of a log entry as the service reads it. */
export const sideEntryOf = (e: LogEntry): SideEntry => ({
  index: e.index,
  signatureId: e.signatureId,
  kindVersion: { ...e.kindVersion },
  release: { model: e.release.model, version: e.release.version },
  payloadType: e.payloadType,
  payload: toBase64(e.payload),
  kid: e.kid,
  signedAt: e.signedAt.toISOString(),
});

/** The side file of `entries` (only the side entry's fields are kept, whatever else they hold). */
export function formatSideFile(entries: readonly SideEntry[]): string {
  const kept = entries.map(({ index, signatureId, kindVersion, release, payloadType, payload, kid, signedAt }) => ({ index, signatureId, kindVersion, release, payloadType, payload, kid, signedAt }));
  return `${JSON.stringify({ entries: kept })}\n`;
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

/**
 * Why entry `index` (leaf data `data`) does not commit to what its side entry says, or undefined
 * when it does; `side` is the side file's entry at that position (or missing).
 */
export function sideEntryProblem(index: number, data: Uint8Array, side: unknown, sha256: Sha256): string | undefined {
  const e = side as Partial<SideEntry> | undefined;
  if (!e || typeof e !== 'object' || e.index !== index) return `entry ${index} is not in its side file`;
  const payload = typeof e.payload === 'string' ? fromBase64(e.payload) : undefined;
  if (!payload || !e.release || typeof e.release.model !== 'string' || typeof e.release.version !== 'string' || typeof e.payloadType !== 'string' || !e.kindVersion) {
    return `entry ${index}: its side file entry is malformed`;
  }
  const problem = entryContentProblem({ kindVersion: e.kindVersion, data, payloadType: e.payloadType, payload, release: e.release }, sha256);
  return problem && `entry ${index} (${e.release.model}@${e.release.version}): ${problem}`;
}
