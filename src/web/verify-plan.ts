// What the verify page makes of what the user picked, before and after hashing. Pure (no DOM,
// no workers), so it is tested in Node: which file is the bundle, the limits, and which signed
// file each picked file stands for.
import { compareFiles, keySet, PROOF_FILE_NAME, verifyBundle, type FileDigest, type Reason, type TrustedKey, type Verdict, type WitnessPolicy } from '../core/verifier.ts';
import type { ReleaseClaim } from '../core/read-bundle.ts';

/** The most files one verification takes (as POST /v1/verify); a bigger folder is refused before any is read. */
export const MAX_FILES = 10_000;
/** A bundle is a few KiB; anything over this is refused before it is read, let alone parsed. */
export const MAX_BUNDLE_BYTES = 8 * 1024 * 1024;

export interface PickedFile {
  path: string;
  file: { size: number };
}

/** The most a tlog-proof may be (a checkpoint of 100 lines and 256 KiB, its proof lines). */
export const MAX_PROOF_BYTES = 270 * 1024;

export type Plan<T extends PickedFile> = { ok: true; bundle: T | undefined; proof: T | undefined; files: T[] } | { ok: false; message: string };

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/**
 * The bundle is `model.sig` at the top of what was picked, else the one `.sig` file there is;
 * its witness proof is the bundle's name + `.tlog-proof` (model.sig.tlog-proof); everything else
 * is a file to check. Several `.sig` files and no `model.sig` is ambiguous.
 */
export function planVerification<T extends PickedFile>(picked: readonly T[]): Plan<T> {
  if (picked.length === 0) return { ok: false, message: 'Nothing was picked.' };
  const sigs = picked.filter((p) => p.path.endsWith('.sig'));
  const bundle = sigs.find((p) => p.path === 'model.sig') ?? (sigs.length === 1 ? sigs[0] : undefined);
  if (!bundle && sigs.length > 1) {
    return { ok: false, message: `${sigs.length} .sig files and no model.sig: pick one release, with its one bundle, at a time.` };
  }
  const proof = bundle ? picked.find((p) => p.path === `${bundle.path}.tlog-proof`) : picked.find((p) => p.path === PROOF_FILE_NAME);
  const files = picked.filter((p) => p !== bundle && p !== proof);
  if (files.length > MAX_FILES) {
    return { ok: false, message: `${files.length} files were picked; the page checks at most ${MAX_FILES.toLocaleString('en')} at a time. Use modelsign verify for bigger folders.` };
  }
  if (files.length === 0) return { ok: false, message: 'Only a bundle was picked: pick the model files too (with the bundle, or alone to look the release up by digest).' };
  if (bundle && bundle.file.size > MAX_BUNDLE_BYTES) {
    return { ok: false, message: `${bundle.path} is ${mib(bundle.file.size)}: a bundle is at most ${mib(MAX_BUNDLE_BYTES)}, so this is not one. It was not read.` };
  }
  if (proof && proof.file.size > MAX_PROOF_BYTES) {
    return { ok: false, message: `${proof.path} is ${mib(proof.file.size)}: a tlog-proof is at most ${mib(MAX_PROOF_BYTES)}. It was not read.` };
  }
  return { ok: true, bundle, proof, files };
}

export interface FileComparison {
  reasons: Reason[];
  /** Signed files the user did not pick (files mode only: they are not checked, not missing). */
  unchecked: string[];
}

/**
 * Changed, missing and extra files. A folder is compared whole (a signed file not in it is
 * missing). Files picked one by one are compared as far as they go: each stands for the signed
 * file of its path, or of its name when exactly one signed file has that name, and signed files
 * not picked are listed as unchecked.
 */
export function compareHashed(claim: ReleaseClaim, hashed: readonly FileDigest[], mode: 'folder' | 'files'): FileComparison {
  if (mode === 'folder') return { reasons: compareFiles(claim, hashed), unchecked: [] };
  const byName = new Map<string, string[]>();
  for (const r of claim.resources) {
    const base = r.name.slice(r.name.lastIndexOf('/') + 1);
    byName.set(base, [...(byName.get(base) ?? []), r.name]);
  }
  const signed = new Set(claim.resources.map((r) => r.name));
  const mapped = hashed.map((f) => {
    if (signed.has(f.path)) return f;
    const candidates = byName.get(f.path.slice(f.path.lastIndexOf('/') + 1)) ?? [];
    return candidates.length === 1 ? { path: candidates[0]!, sha256: f.sha256 } : f;
  });
  const picked = new Set(mapped.map((f) => f.path));
  const partial = { ...claim, resources: claim.resources.filter((r) => picked.has(r.name)) };
  return { reasons: compareFiles(partial, mapped), unchecked: claim.resources.filter((r) => !picked.has(r.name)).map((r) => r.name) };
}

/** What the user requires of witnesses: their own pasted policy, and the proof they picked. */
export interface WitnessChoice {
  policy: WitnessPolicy;
  proof?: string | undefined;
}

/**
 * The console's verdict on a bundle: the portable verifier with the trusted keys (the log entry
 * is checked when a log key is trusted) and, with a policy, the witness check at `now`.
 */
export function verifyWithTrust(bundle: unknown, keys: readonly TrustedKey[], witness: WitnessChoice | undefined, now: number): Verdict {
  const set = keySet(keys);
  const hasLogKey = keys.some((k) => k.purpose === 'log');
  return verifyBundle(bundle, {
    resolveKey: set.resolveKey,
    logKeys: set.logKeys,
    skipTlog: !hasLogKey,
    ...(witness ? { witnesses: { policy: witness.policy, ...(witness.proof !== undefined ? { proof: witness.proof } : {}), now } } : {}),
  });
}
