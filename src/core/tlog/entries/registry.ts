// Every log entry kind modelsign writes or reads, by kindVersion. A new kind is a file beside
// modelsign-release-v1.ts and a line here; CURRENT_ENTRY_KIND is what new entries are.
import { TlogError } from '../tlog-error.ts';
import { kindVersionKey, type EntryFacts, type EntryKind, type KindVersion } from './entry-kind.ts';
import { MODELSIGN_RELEASE_V1 } from './modelsign-release-v1.ts';

const KINDS: ReadonlyMap<string, EntryKind> = new Map([MODELSIGN_RELEASE_V1].map((k) => [kindVersionKey(k.kindVersion), k]));

export const CURRENT_ENTRY_KIND: Readonly<KindVersion> = MODELSIGN_RELEASE_V1.kindVersion;

/** The kind an entry's kindVersion names, or undefined for one this version does not know. */
export function entryKindOf(kindVersion: unknown): EntryKind | undefined {
  const kv = kindVersion as Partial<KindVersion> | null | undefined;
  if (typeof kv?.kind !== 'string' || typeof kv.version !== 'string') return undefined;
  return KINDS.get(kindVersionKey({ kind: kv.kind, version: kv.version }));
}

/** The leaf data of a release signature as an entry of `kindVersion`. */
export function leafFor(kindVersion: KindVersion, facts: EntryFacts): Uint8Array {
  const kind = entryKindOf(kindVersion);
  if (!kind) throw new TlogError('kind_unknown', `no log entry kind ${kindVersionKey(kindVersion)}`);
  return kind.leafData(facts);
}
