// Verification of a modelsign bundle: pure, synchronous, and free of node:crypto and fs, so the
// same code, with the same Ed25519 rules, runs in the service (/v1/verify), the CLI and a
// browser. (OpenSSL's Ed25519 verify disagrees with strict RFC 8032 on small-order and
// mixed-order edge cases, so the service does not swap it in here: one verdict everywhere.) Callers supply the trusted
// keys and, optionally, the digests of the files they have; the verdict lists every reason the
// bundle is not valid rather than stopping at the first, so a user sees the whole story.
import { preAuthEncoding } from './dsse.ts';
import { ed25519Verify, ED25519_SIGNATURE_LENGTH } from './ed25519.ts';
import { rootDigest } from './manifest.ts';
import { keyIdOf } from './public-key.ts';
import { readClaim, readEnvelope, type ReleaseClaim } from './read-bundle.ts';
import type { KeyPurpose, KeyStatus, Reason, Verdict } from './verdict.ts';

export interface TrustedKey {
  kid: string;
  publicKey: Uint8Array;
  purpose: KeyPurpose;
  status: KeyStatus;
}

export interface FileDigest {
  path: string;
  sha256: string;
}

export interface VerifyBundleOptions {
  /** Looks up a trusted key by kid; undefined when the kid is not trusted. */
  resolveKey: (kid: string) => TrustedKey | undefined;
  /** The files actually present (already excluding anything the caller never hashes). */
  files?: readonly FileDigest[];
}

export function verifyBundle(bundle: unknown, options: VerifyBundleOptions): Verdict {
  const verdict: Verdict = { valid: false, reasons: [], kid: null, keyStatus: null, model: null, version: null, rootDigest: null };
  const envelope = readEnvelope(bundle);
  if (!envelope.ok) {
    verdict.reasons = envelope.reasons;
    return verdict;
  }
  const { hint, payloadType, payload, signature } = envelope.value;
  const reasons: Reason[] = [];
  verdict.kid = hint;

  const key = options.resolveKey(hint);
  if (!key) {
    reasons.push({ code: 'key_unknown', message: `no trusted key has kid ${JSON.stringify(hint)}` });
  } else {
    verdict.keyStatus = key.status;
    if (keyIdOf(key.publicKey) !== hint) reasons.push({ code: 'key_mismatch', message: `trusted key for ${hint} hashes to another kid` });
    if (key.purpose !== 'release') reasons.push({ code: 'key_wrong_purpose', message: `key ${hint} is a ${key.purpose} key, not a release key` });
    if (key.status === 'pending') reasons.push({ code: 'key_not_active', message: `key ${hint} is pending and has never signed releases` });
    if (key.status === 'revoked') reasons.push({ code: 'key_revoked', message: `key ${hint} is revoked` });
    if (signature.length !== ED25519_SIGNATURE_LENGTH) {
      reasons.push({ code: 'signature_malformed', message: `an Ed25519 signature is 64 bytes, got ${signature.length}` });
    } else if (!ed25519Verify(signature, preAuthEncoding(payloadType, payload), key.publicKey)) {
      reasons.push({ code: 'signature_invalid', message: 'the signature does not verify over the payload with the named key' });
    }
  }

  const claim = readClaim(payload);
  if (!claim.ok) {
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
  if (options.files) reasons.push(...compareFiles(release, options.files));
  verdict.reasons = reasons;
  verdict.valid = reasons.length === 0;
  return verdict;
}

function isIgnored(path: string, ignorePaths: readonly string[]): boolean {
  return ignorePaths.some((p) => path === p || path.startsWith(p + '/'));
}

/** Changed, missing and extra files, each named, in resource order then file order. */
export function compareFiles(release: ReleaseClaim, files: readonly FileDigest[]): Reason[] {
  const reasons: Reason[] = [];
  const present = new Map(files.map((f) => [f.path, f.sha256]));
  const signed = new Set<string>();
  for (const r of release.resources) {
    signed.add(r.name);
    const actual = present.get(r.name);
    if (actual === undefined) reasons.push({ code: 'file_missing', message: `${r.name} is signed but missing`, path: r.name });
    else if (actual !== r.digest) reasons.push({ code: 'file_changed', message: `${r.name} has SHA-256 ${actual}, signed ${r.digest}`, path: r.name });
  }
  for (const f of files) {
    if (!signed.has(f.path) && !isIgnored(f.path, release.ignorePaths)) {
      reasons.push({ code: 'file_extra', message: `${f.path} is not part of the signed release`, path: f.path });
    }
  }
  return reasons;
}
