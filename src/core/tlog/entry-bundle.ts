// C2SP tlog-tiles entry bundles (`tile/entries/<N>[.p/<W>]`): each entry's leaf data, prefixed by
// its length as a big-endian uint16. Read by the mirror and the tiles monitor, which check every
// entry against its level-0 hash before trusting it.
import { TlogError } from './tlog-error.ts';

/** The leaf data of the entries of a bundle; throws TlogError('bundle_malformed') on a cut entry. */
export function parseEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bundle.length; ) {
    if (at + 2 > bundle.length) throw new TlogError('bundle_malformed', `the bundle ends inside the length of entry ${out.length}`);
    const length = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + length > bundle.length) throw new TlogError('bundle_malformed', `the bundle ends inside entry ${out.length}`);
    out.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return out;
}
