// Verification of a modelsign bundle: pure, synchronous, and free of node:crypto and fs, so the
// same code, with the same signature rules (core/crypto), runs in the service (/v1/verify), the
// CLI and a browser. Callers supply the trusted keys and, optionally, the digests of the files
// they have; the verdict lists every reason the bundle is not valid rather than stopping at the
// first, so a user sees the whole story. The steps and their order: docs/design/verification.md.
import type { SignatureVerifier } from './crypto/algorithm.ts';
import { keyIdOf, verifySignature as strictVerify } from './crypto/public-key.ts';
import { algorithmOf } from './crypto/registry.ts';
import { preAuthEncoding } from './dsse.ts';
import type { TrustedKey } from './keys/key.ts';
import { isIgnoredPath, rootDigest } from './manifest.ts';
import { printableName } from './unicode.ts';
import { readClaim, readEnvelope, type ReleaseClaim } from './read-bundle.ts';
import type { EntryFacts } from './tlog/entries/entry-kind.ts';
import type { LogHasher } from './tlog/hash.ts';
import { checkTlogEntry, type VerifiedTlogEntry } from './tlog/tlog-entry.ts';
import { PROOF_FILE_NAME } from './tlog/tlog-proof.ts';
import { checkWitnessed, type WitnessRequirement } from './tlog/witnessed.ts';
import type { Reason, Verdict } from './verdict.ts';

export interface FileDigest {
  path: string;
  sha256: string;
}

export interface VerifyBundleOptions {
  /** Looks up a trusted key by kid; undefined when the kid is not trusted. */
  resolveKey: (kid: string) => TrustedKey | undefined;
  /**
   * The trusted log keys, which a Rekor v2 entry names by a log ID derived from the key and the
   * checkpoint's origin (core/keys/key-set.ts builds both lookups from a list of keys). Without
   * it, only first-format entries (which name the log key by kid) can be checked.
   */
  logKeys?: () => Iterable<TrustedKey>;
  /** The files actually present (already excluding anything the caller never hashes). */
  files?: readonly FileDigest[];
  /**
   * Whether a bundle without a transparency-log entry is refused (default true). A verified
   * entry is what proves when the signature was made, which revocation depends on.
   */
  requireTlog?: boolean;
  /**
   * Leave the log entry unchecked: for a caller that trusts no log key (say, only a pinned
   * release key). Nothing then proves when the signature was made, so a revoked key's
   * signatures are all refused.
   */
  skipTlog?: boolean;
  /** The hasher for the log entry (default: the portable one). */
  hasher?: LogHasher;
  /**
   * The signature check (default: each algorithm record's strict `verify`). The service passes
   * a faster one with the same verdicts (services/node-verifier.ts).
   */
  verifySignature?: SignatureVerifier;
  /**
   * The user's witness policy (C2SP tlog-policy), with a tlog-proof when one is beside the
   * bundle: the entry must then be in a checkpoint the policy's quorum of witnesses cosigned
   * (core/tlog/witnessed.ts). Always the user's own: a server never supplies it.
   */
  witnesses?: WitnessRequirement;
}

function signatureReason(key: TrustedKey, hint: string, signature: Uint8Array, message: Uint8Array, verifySignature: SignatureVerifier): Reason | undefined {
  // A signature of the other algorithm (64 raw Ed25519 bytes for an ECDSA key, DER for an
  // Ed25519 key) or a malformed DER value is named as such, not merely as "does not verify".
  const problem = algorithmOf(key.algorithm).signatureProblem(signature);
  if (problem !== undefined) return { code: 'signature_malformed', message: `key ${hint} is an ${key.algorithm} key: ${problem}` };
  if (!verifySignature(key, signature, message)) return { code: 'signature_invalid', message: 'the signature does not verify over the payload with the named key' };
  return undefined;
}

export function verifyBundle(bundle: unknown, options: VerifyBundleOptions): Verdict {
  const verdict: Verdict = {
    valid: false,
    reasons: [],
    kid: null,
    keyStatus: null,
    model: null,
    version: null,
    rootDigest: null,
    logIndex: null,
    integratedTime: null,
  };
  const envelope = readEnvelope(bundle);
  if (!envelope.ok) {
    verdict.reasons = envelope.reasons;
    return verdict;
  }
  const { hint, payloadType, payload, signature, tlogEntries } = envelope.value;
  const reasons: Reason[] = [];
  verdict.kid = hint;

  const key = options.resolveKey(hint);
  let revoked = false;
  if (!key) {
    reasons.push({ code: 'key_unknown', message: `no trusted key has kid ${JSON.stringify(hint)}` });
  } else {
    verdict.keyStatus = key.status;
    if (keyIdOf(key) !== hint) reasons.push({ code: 'key_mismatch', message: `trusted key for ${hint} hashes to another kid` });
    if (key.purpose !== 'release') reasons.push({ code: 'key_wrong_purpose', message: `key ${hint} is a ${key.purpose} key, not a release key` });
    if (key.status === 'pending') reasons.push({ code: 'key_not_active', message: `key ${hint} is pending and has never signed releases` });
    revoked = key.status === 'revoked';
    const bad = signatureReason(key, hint, signature, preAuthEncoding(payloadType, payload), options.verifySignature ?? strictVerify);
    if (bad) reasons.push(bad);
  }

  const claim = readClaim(payload);
  if (!claim.ok) {
    if (revoked) reasons.push(revokedReason(hint, key?.compromisedAt ?? null, null));
    verdict.reasons = [...reasons, ...claim.reasons];
    return verdict;
  }
  const release = claim.value;
  verdict.model = release.model;
  verdict.version = release.version;
  verdict.rootDigest = release.rootDigest;
  if (release.model === null) {
    reasons.push({ code: 'subject_malformed', message: `subject name ${JSON.stringify(release.subject)} is not namespace/name@version` });
  }
  const recomputed = rootDigest(release.resources.map((r) => r.digest));
  if (recomputed !== release.rootDigest) {
    reasons.push({ code: 'root_digest_mismatch', message: `subject digest ${release.rootDigest} but the resources hash to ${recomputed}` });
  }

  // The leaf is rebuilt from the bundle and the trusted key it names.
  const logged = options.skipTlog ? null : checkLogged(tlogEntries, options, reasons, key && { subject: release.subject, rootDigest: release.rootDigest, payloadType, payload, kid: hint, key, signature });
  if (logged) {
    verdict.logIndex = logged.logIndex;
    verdict.integratedTime = logged.integratedTime;
  }
  if (options.witnesses) reasons.push(...witnessReasons(options, logged));
  if (revoked && !loggedBefore(logged, key?.compromisedAt ?? null)) {
    reasons.push(revokedReason(hint, key?.compromisedAt ?? null, logged));
  }

  if (options.files) reasons.push(...compareFiles(release, options.files));
  verdict.reasons = reasons;
  verdict.valid = reasons.length === 0;
  return verdict;
}

/** The verified log entry, or null (with the reason pushed when one is owed). */
function checkLogged(
  tlogEntries: unknown[],
  options: VerifyBundleOptions,
  reasons: Reason[],
  /** Undefined without a trusted key: there is nothing to rebuild the leaf from (key_unknown already makes the verdict invalid), but a missing entry is still worth saying. */
  facts: EntryFacts | undefined,
): VerifiedTlogEntry | null {
  if (tlogEntries.length === 0) {
    if (options.requireTlog ?? true) reasons.push({ code: 'tlog_entry_missing', message: 'the bundle carries no transparency-log entry' });
    return null;
  }
  if (!facts) return null;
  if (tlogEntries.length > 1) {
    reasons.push({ code: 'tlog_entry_malformed', message: `expected one transparency-log entry, found ${tlogEntries.length}` });
    return null;
  }
  const checked = checkTlogEntry(tlogEntries[0], facts, options, options.hasher);
  if (checked.ok) return checked.value;
  reasons.push(...checked.reasons);
  return null;
}

function witnessReasons(options: VerifyBundleOptions, logged: VerifiedTlogEntry | null): Reason[] {
  const requirement = options.witnesses!;
  if (logged) {
    const entry = { index: logged.logIndex, leafHash: logged.leafHash, checkpoint: logged.checkpoint, logKey: logged.logKey };
    return checkWitnessed(requirement, entry, options.logKeys?.() ?? [], options.verifySignature, options.hasher);
  }
  // Without a verified entry there is nothing witnesses could have seen (the entry's own reason is already given).
  if (options.skipTlog) return [{ code: 'witness_quorum_not_met', message: 'a witness policy needs the log entry checked, and no log key is trusted (give --keys, --server, a chain or --log-key)' }];
  return [];
}

// The log's signed time has a resolution of one second and says the entry existed by the end
// of that second, so the entry predates the compromise only if that whole second does.
function loggedBefore(logged: VerifiedTlogEntry | null, compromisedAt: Date | null): boolean {
  if (!logged || logged.integratedTime === null || !compromisedAt) return false;
  return (logged.integratedTime + 1) * 1000 <= compromisedAt.getTime();
}

function revokedReason(kid: string, compromisedAt: Date | null, logged: VerifiedTlogEntry | null): Reason {
  if (!compromisedAt) return { code: 'key_revoked', message: `key ${kid} is revoked` };
  const when = compromisedAt.toISOString();
  if (!logged || logged.integratedTime === null) {
    return { code: 'key_revoked', message: `key ${kid} was compromised at ${when} and no verified log entry proves this signature is older` };
  }
  const at = new Date(logged.integratedTime * 1000).toISOString();
  return { code: 'key_revoked', message: `key ${kid} was compromised at ${when}; this signature was logged at ${at}, not before` };
}

/** Changed, missing and extra files, each named, in resource order then file order. */
export function compareFiles(release: ReleaseClaim, files: readonly FileDigest[]): Reason[] {
  const reasons: Reason[] = [];
  const present = new Map(files.map((f) => [f.path, f.sha256]));
  const signed = new Set<string>();
  for (const r of release.resources) {
    signed.add(r.name);
    const actual = present.get(r.name);
    if (actual === undefined) reasons.push({ code: 'file_missing', message: `${printableName(r.name)} is signed but missing`, path: r.name });
    else if (actual !== r.digest) reasons.push({ code: 'file_changed', message: `${printableName(r.name)} has SHA-256 ${actual}, signed ${r.digest}`, path: r.name });
  }
  for (const f of files) {
    // The witness proof beside model.sig is never a release file, even in releases signed before
    // its name joined the default ignore paths.
    if (!signed.has(f.path) && !isIgnoredPath(f.path, release.ignorePaths) && f.path !== PROOF_FILE_NAME) {
      reasons.push({ code: 'file_extra', message: `${printableName(f.path)} is not part of the signed release`, path: f.path });
    }
  }
  return reasons;
}
