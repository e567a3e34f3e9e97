// A verifier's trusted keys as the lookups it makes: a key by kid (a bundle's hint), and the log
// keys to match a Rekor v2 entry's log ID against (that ID is derived from a log key and the
// checkpoint's origin, so it cannot be looked up by kid).
import type { TrustedKey } from './key.ts';

export interface KeySet {
  resolveKey(kid: string): TrustedKey | undefined;
  logKeys(): Iterable<TrustedKey>;
}

export function keySet(keys: Iterable<TrustedKey>): KeySet {
  const byKid = new Map<string, TrustedKey>();
  for (const k of keys) byKid.set(k.kid, k);
  const log = [...byKid.values()].filter((k) => k.purpose === 'log');
  return { resolveKey: (kid) => byKid.get(kid), logKeys: () => log };
}
