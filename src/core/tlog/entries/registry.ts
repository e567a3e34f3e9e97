// Every log entry kind modelsign writes or reads, by kindVersion. A new kind is a file beside
// hashedrekord-v002.ts and a line here; CURRENT_ENTRY_KIND is what new entries are. A signature's
// kind is stored with it (release_signatures.entry_kind), since the log holds entries of both.
import type { Sha256 } from '../hash.ts';
import { TlogError } from '../tlog-error.ts';
import { kindVersionKey, type EntryFacts, type EntryKind, type KindVersion } from './entry-kind.ts';
import { HASHEDREKORD_V002 } from './hashedrekord-v002.ts';
import { MODELSIGN_RELEASE_V1 } from './modelsign-release-v1.ts';

const KINDS: ReadonlyMap<string, EntryKind> = new Map([HASHEDREKORD_V002, MODELSIGN_RELEASE_V1].map((k) => [kindVersionKey(k.kindVersion), k]));

export const CURRENT_ENTRY_KIND: Readonly<KindVersion> = HASHEDREKORD_V002.kindVersion;

/** The kind an entry's kindVersion names, or undefined for one this version does not know. */
export function entryKindOf(kindVersion: unknown): EntryKind | undefined {
  const kv = kindVersion as Partial<KindVersion> | null | undefined;
  if (typeof kv?.kind !== 'string' || typeof kv.version !== 'string') return undefined;
  return KINDS.get(kindVersionKey({ kind: kv.kind, version: kv.version }));
}

/** The kind stored as `kind/version` text (the entry_kind column). */
export function entryKindNamed(name: string): EntryKind {
  const kind = KINDS.get(name);
  if (!kind) throw new TlogError('kind_unknown', `no log entry kind ${name}`);
  return kind;
}

/** The leaf data of a release signature as an entry of `kindVersion`. */
export function leafFor(kindVersion: KindVersion, facts: EntryFacts, sha256: Sha256): Uint8Array {
  const kind = entryKindOf(kindVersion);
  if (!kind) throw new TlogError('kind_unknown', `no log entry kind ${kindVersionKey(kindVersion)}`);
  return kind.leafData(facts, sha256);
}
