// A release checked in the browser with the portable verifier (core/verifier.ts), against the
// keys this server publishes: the signature with the release key, the key's status, the log
// entry's inclusion proof and its checkpoint's signature with the log key, and the bundle's file
// list against the one the page shows. What that proves: that the server's own keys vouch for
// the bundle, consistently; not more (a user who pins a key elsewhere checks against that).
import type { Wire } from '../api/wire.ts';
import { keySet, trustedKeysFromJwks, verifyBundle, type Reason, type TrustedKey } from '../core/verifier.ts';

export interface ReleaseCheck {
  valid: boolean;
  reasons: Reason[];
  /** The release key and the log keys the check trusted (their kids are their fingerprints). */
  releaseKey: TrustedKey | undefined;
  logKeys: TrustedKey[];
  logIndex: number | null;
  integratedTime: number | null;
}

export function checkRelease(record: Wire['Signature'], jwks: unknown): ReleaseCheck {
  const keys = trustedKeysFromJwks(jwks) ?? [];
  const set = keySet(keys);
  const files = (record.files ?? []).map((f) => ({ path: f.path, sha256: f.sha256 }));
  const verdict = verifyBundle(record.bundle, { resolveKey: set.resolveKey, logKeys: set.logKeys, files });
  return {
    valid: verdict.valid,
    reasons: verdict.reasons,
    releaseKey: set.resolveKey(record.kid),
    logKeys: [...set.logKeys()],
    logIndex: verdict.logIndex,
    integratedTime: verdict.integratedTime,
  };
}
