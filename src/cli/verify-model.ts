// Checking one model on disk against its bundle: the bundle is read and its resource names
// checked before any model file is opened; then the files are listed (path safety), hashed and
// compared, and the signature, key and log entry checked by the same pure verifier the
// service uses (core/verify-bundle.ts).
import { lstat, readFile } from 'node:fs/promises';
import { readClaim, readEnvelope } from '../core/read-bundle.ts';
import type { Reason } from '../core/verdict.ts';
import { printableName } from '../core/unicode.ts';
import { verifyBundle, type VerifyBundleOptions } from '../core/verify-bundle.ts';
import { EXIT } from './exit-codes.ts';
import type { ContentFinding, ContentVerdict } from '../core/scan/verdict.ts';
import { describeContent, isUnsafeVerdict, unsafeFiles, verdictCounts } from './content-report.ts';
import { hashFiles, type HashedFile } from './hash-files.ts';
import { defaultBundlePath, listModel, ModelPathError, type FileProblem, type ModelFile, type ModelListing } from './model-files.ts';
import type { Trust } from './trust.ts';
import type { WitnessPolicy } from '../core/tlog/witness-policy.ts';

export type Outcome = 'verified' | 'tampered' | 'unsafe' | 'untrusted' | 'unsigned' | 'error';

export interface ModelReport {
  path: string;
  bundle: string;
  outcome: Outcome;
  exitCode: number;
  model: string | null;
  version: string | null;
  kid: string | null;
  keyStatus: string | null;
  logIndex: number | null;
  /** Whether the log entry was checked (it cannot be without a trusted log key). */
  logChecked: boolean;
  reasons: { code: string; message: string; path?: string }[];
  changed: string[];
  missing: string[];
  extra: string[];
  /** How the folder was read (a Hugging Face snapshot or --local-dir download is said). */
  layout: ModelListing['layout'] | null;
  /** What the content check says of each file now (it runs in the hashing pass). */
  content: { path: string; verdict: ContentVerdict; format: string | null; findings: ContentFinding[] }[];
  /** Whether the release was checked when signed: the signer's claim, 'unchecked' when the bundle has none. */
  signedContentCheck: { checker: string; allowlist: string; torch?: string; files: number } | 'unchecked' | 'malformed';
  /** --allow-unsafe-content was given: unsafe content is reported, not failed on. */
  unsafeContentAllowed: boolean;
  /** With a witness policy: the tlog-proof file that was read (null when there was none). */
  witnessProof?: string | null;
}

// A witness quorum not met, or a policy that cannot apply, says nothing was altered: trust is
// missing. A forged cosignature or a proof for something else is tampering with the evidence.
const UNTRUSTED = new Set(['key_unknown', 'key_mismatch', 'key_wrong_purpose', 'key_not_active', 'key_revoked', 'log_key_unknown', 'witness_quorum_not_met', 'witness_policy_invalid']);

export interface VerifyDeps {
  hash: (files: readonly ModelFile[]) => Promise<HashedFile[]>;
  /** The clock witness cosignatures are checked against (milliseconds). */
  now?: () => number;
}

export interface WitnessOption {
  policy: WitnessPolicy;
  /** --proof; otherwise the bundle's path + .tlog-proof, when that file exists. */
  proof?: string | undefined;
}

export async function verifyModel(
  target: string,
  options: { bundle?: string | undefined; trust: Trust; allowSymlinks: boolean; expect?: string | undefined; allowUnsafeContent?: boolean | undefined; witness?: WitnessOption | undefined },
  deps: VerifyDeps = { hash: (files) => hashFiles(files, undefined, { check: true }) },
): Promise<ModelReport> {
  const bundlePath = options.bundle ?? (await defaultBundlePath(target));
  const report: ModelReport = {
    path: target,
    bundle: bundlePath,
    outcome: 'error',
    exitCode: EXIT.io,
    model: null,
    version: null,
    kid: null,
    keyStatus: null,
    logIndex: null,
    logChecked: options.trust.hasLogKey,
    reasons: [],
    changed: [],
    missing: [],
    extra: [],
    layout: null,
    content: [],
    signedContentCheck: 'unchecked',
    unsafeContentAllowed: options.allowUnsafeContent === true,
  };
  const fail = (outcome: Outcome, exitCode: number, code: string, message: string) => {
    report.outcome = outcome;
    report.exitCode = exitCode;
    report.reasons.push({ code, message });
    return report;
  };

  try {
    await lstat(target);
  } catch (err) {
    return fail('error', EXIT.io, 'path_unreadable', `${target}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (err as Error).message}`);
  }
  let text: string;
  try {
    text = await readFile(bundlePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fail('unsigned', EXIT.io, 'bundle_missing', `no bundle at ${bundlePath}`);
    return fail('error', EXIT.io, 'bundle_unreadable', `cannot read ${bundlePath}: ${(err as Error).message}`);
  }
  let bundle: unknown;
  try {
    bundle = JSON.parse(text);
  } catch {
    return fail('tampered', EXIT.tampered, 'bundle_malformed', `${bundlePath} is not JSON`);
  }
  // Resource names are checked before any model file is opened: a bundle naming
  // ../../etc/passwd must not make us read it.
  const envelope = readEnvelope(bundle);
  const claim = envelope.ok ? readClaim(envelope.value.payload) : undefined;
  if (!envelope.ok || !claim?.ok) {
    const reasons = !envelope.ok ? envelope.reasons : claim && !claim.ok ? claim.reasons : [];
    report.reasons.push(...reasons);
    report.outcome = 'tampered';
    report.exitCode = EXIT.tampered;
    return report;
  }

  let listing;
  try {
    listing = await listModel(target, { allowSymlinks: options.allowSymlinks || claim.value.allowSymlinks, ignorePaths: claim.value.ignorePaths });
  } catch (err) {
    if (err instanceof ModelPathError) return fail('error', EXIT.io, 'path_unreadable', err.message);
    throw err;
  }
  report.layout = listing.layout;
  const claimed = claim.value.content;
  report.signedContentCheck = claimed === undefined ? 'unchecked' : claimed === 'malformed' ? 'malformed' : { checker: claimed.checker, allowlist: claimed.allowlist, ...(claimed.torch ? { torch: claimed.torch } : {}), files: claimed.files.length };
  const hashed = await deps.hash(listing.files);
  report.content = hashed.filter((f) => f.content).map((f) => ({ path: f.path, verdict: f.content!.verdict, format: f.content!.format ?? null, findings: f.content!.findings }));
  let witnesses: VerifyBundleOptions['witnesses'];
  if (options.witness) {
    const proofPath = options.witness.proof ?? `${bundlePath}.tlog-proof`;
    let proof: string | undefined;
    try {
      proof = await readFile(proofPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || options.witness.proof !== undefined) return fail('error', EXIT.io, 'proof_unreadable', `cannot read the tlog-proof ${proofPath}: ${(err as Error).message}`);
    }
    report.witnessProof = proof === undefined ? null : proofPath;
    witnesses = { policy: options.witness.policy, ...(proof !== undefined ? { proof } : {}), now: (deps.now ?? Date.now)() };
  }
  const verdict = verifyBundle(bundle, { resolveKey: options.trust.resolveKey, logKeys: options.trust.logKeys, files: hashed, skipTlog: !options.trust.hasLogKey, ...(witnesses ? { witnesses } : {}) });
  report.model = verdict.model;
  report.version = verdict.version;
  report.kid = verdict.kid;
  report.keyStatus = verdict.keyStatus;
  report.logIndex = verdict.logIndex;
  const reasons: { code: string; message: string; path?: string }[] = [...listing.problems.map(problemReason), ...verdict.reasons];
  // A validly signed release is not necessarily the one the loader wants: an old, vulnerable
  // version (or another model) swapped in whole, bundle included, verifies on its own.
  if (options.expect !== undefined && verdict.model !== null) {
    const signed = `${verdict.model}@${verdict.version}`;
    const wanted = options.expect.includes('@') ? signed : verdict.model;
    if (wanted !== options.expect) reasons.push({ code: 'release_unexpected', message: `the bundle signs ${signed}; expected ${options.expect}` });
  }
  // Content that can run code fails the check (its own outcome) unless the caller accepted it.
  const unsafe = options.allowUnsafeContent ? [] : unsafeFiles(hashed);
  const contentReasons = unsafe.map((f) => ({ code: f.content.verdict === 'code-capable' ? 'content_code_capable' : 'content_malformed', message: describeContent(f.path, f.content), path: f.path }));
  report.reasons = [...reasons, ...contentReasons];
  for (const r of verdict.reasons as Reason[]) {
    if (r.code === 'file_changed') report.changed.push(r.path!);
    if (r.code === 'file_missing') report.missing.push(r.path!);
    if (r.code === 'file_extra') report.extra.push(r.path!);
  }
  // A symlink or special file where a signed file should be is a change to that file.
  for (const p of listing.problems) {
    if (report.missing.includes(p.path)) {
      report.missing = report.missing.filter((m) => m !== p.path);
      report.changed.push(p.path);
    }
  }
  if (reasons.length === 0 && contentReasons.length === 0) {
    report.outcome = 'verified';
    report.exitCode = EXIT.ok;
  } else if (reasons.some((r) => !UNTRUSTED.has(r.code))) {
    report.outcome = 'tampered';
    report.exitCode = EXIT.tampered;
  } else if (contentReasons.length > 0) {
    // Not what was signed beats everything; unsafe content beats an untrusted key (either refuses the load).
    report.outcome = 'unsafe';
    report.exitCode = EXIT.unsafe;
  } else if (reasons.every((r) => UNTRUSTED.has(r.code))) {
    report.outcome = 'untrusted';
    report.exitCode = EXIT.untrusted;
  } else {
    report.outcome = 'tampered';
    report.exitCode = EXIT.tampered;
  }
  return report;
}

/** The content check now, and whether the release was checked when it was signed. */
export function contentLine(report: ModelReport): string {
  const now = verdictCounts(report.content.map((c) => ({ verdict: c.verdict, format: undefined, findings: [] })));
  const signed =
    report.signedContentCheck === 'unchecked'
      ? 'the release was signed without a content check (before modelsign 0.2, or by another tool)'
      : report.signedContentCheck === 'malformed'
        ? 'the bundle\'s content-check record is unreadable'
        : `checked when signed (${report.signedContentCheck.checker}, allowlist ${report.signedContentCheck.allowlist}${report.signedContentCheck.torch ? `, torch ${report.signedContentCheck.torch}` : ''})`;
  return `${now || 'no files'}; ${signed}`;
}

function problemReason(p: FileProblem): { code: string; message: string; path: string } {
  return { code: p.code, message: p.message, path: p.path };
}

export function describe(report: ModelReport): string[] {
  const where = printableName(report.path);
  const what = report.model ? `${report.model}@${report.version}` : where;
  if (report.outcome === 'verified') {
    return [
      `verified: ${where} is ${what}, signed by ${report.kid?.slice(0, 12)} (${report.keyStatus})${report.logIndex !== null ? `, log entry ${report.logIndex}` : ''}${report.logChecked ? '' : '; the log entry was not checked (no log key trusted)'}`,
      `  content: ${contentLine(report)}`,
      ...(report.unsafeContentAllowed ? report.content.filter((c) => isUnsafeVerdict(c.verdict)).map((c) => `  allowed by --allow-unsafe-content: ${describeContent(c.path, { verdict: c.verdict, format: c.format ?? undefined, findings: c.findings })}`) : []),
    ];
  }
  if (report.outcome === 'error' || report.outcome === 'unsigned') return [`${report.outcome}: ${report.reasons[0]?.message ?? where}`];
  const lines = [`${report.outcome}: ${where}${report.model ? ` (${what})` : ''}`];
  for (const r of report.reasons) lines.push(`  ${r.code}${r.path !== undefined ? ` ${printableName(r.path)}` : ''}: ${r.message}`);
  return lines;
}
