// What the signer's content check said of each file, carried in the signed statement under a
// namespaced predicate member (OMS v1.0 verifiers ignore members they do not know). It is the
// publisher's CLI's claim, countersigned: the service signs digests and never sees the bytes.
// A verifier re-runs the check on the bytes it hashes; the claim says whether, and with which
// allowlist, the release was checked when it was signed.
import { isObject } from './guards.ts';
import { CONTENT_VERDICTS, type ContentVerdict } from './scan/verdict.ts';

export const CONTENT_CLAIM_KEY = 'https://modelsign.dev/content-check/v1';

export interface ContentClaim {
  /** The checker that ran, e.g. `modelsign-scan`. */
  checker: string;
  /** The pickle allowlist's version (core/scan/pickle/allowlist.json). */
  allowlist: string;
  /** The PyTorch release whose weights_only allowlist that is (absent in claims made before 0.2.0). */
  torch?: string;
  files: { name: string; verdict: ContentVerdict; format?: string }[];
}

/** The claim in a predicate: undefined when there is none (signed before content checks, or by another tool). */
export function readContentClaim(predicate: Record<string, unknown>): ContentClaim | 'malformed' | undefined {
  const claim = predicate[CONTENT_CLAIM_KEY];
  if (claim === undefined) return undefined;
  if (!isObject(claim) || typeof claim.checker !== 'string' || typeof claim.allowlist !== 'string' || !Array.isArray(claim.files)) return 'malformed';
  if (claim.torch !== undefined && typeof claim.torch !== 'string') return 'malformed';
  const files: ContentClaim['files'] = [];
  for (const f of claim.files as unknown[]) {
    if (!isObject(f) || typeof f.name !== 'string' || !CONTENT_VERDICTS.includes(f.verdict as ContentVerdict)) return 'malformed';
    if (f.format !== undefined && typeof f.format !== 'string') return 'malformed';
    files.push({ name: f.name, verdict: f.verdict as ContentVerdict, ...(typeof f.format === 'string' ? { format: f.format } : {}) });
  }
  return { checker: claim.checker, allowlist: claim.allowlist, ...(typeof claim.torch === 'string' ? { torch: claim.torch } : {}), files };
}

/** Why a claim cannot go with these manifest paths (a name not in the manifest, or twice), or undefined. */
export function contentClaimProblem(claim: ContentClaim, paths: readonly string[]): string | undefined {
  const known = new Set(paths);
  const seen = new Set<string>();
  for (const f of claim.files) {
    if (!known.has(f.name)) return `the content check names ${JSON.stringify(f.name)}, which is not in the manifest`;
    if (seen.has(f.name)) return `the content check names ${JSON.stringify(f.name)} twice`;
    seen.add(f.name);
  }
  return undefined;
}
