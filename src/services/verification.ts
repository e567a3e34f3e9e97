// Online verification: the pure verifier with this service's keys, plus what only the service
// knows: whether it actually recorded this signature, when, and where it is in the log. A bundle
// saved before its log entry existed is completed from the log, so it verifies (with the log's
// time) without being downloaded again.
import type { Bundle } from '../core/bundle.ts';
import type { SignatureVerifier } from '../core/crypto/algorithm.ts';
import { readClaim, readEnvelope } from '../core/read-bundle.ts';
import type { SignatureRecord } from '../core/signature-record.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import type { Verdict } from '../core/verdict.ts';
import { verifyBundle, type FileDigest } from '../core/verify-bundle.ts';
import type { KeyService } from './keys.ts';
import type { SignatureReader } from './signature-reader.ts';
import type { Clock } from './support/clock.ts';
import { ModelsignError } from '../core/errors.ts';
import { TlogError } from '../core/tlog/tlog-error.ts';
import { parseWitnessPolicy, type WitnessPolicy } from '../core/tlog/witness-policy.ts';

/** What a client may require of witnesses: its own policy (never the service's), and a tlog-proof. */
export interface WitnessOptions {
  policy?: string | undefined;
  proof?: string | undefined;
}

export interface OnlineVerdict extends Verdict {
  signatureId: string | null;
  signedAt: Date | null;
}

export class VerificationService {
  constructor(
    private readonly keys: KeyService,
    private readonly signatures: SignatureReader,
    private readonly hasher: LogHasher,
    private readonly verifySignature: SignatureVerifier,
    private readonly clock: Clock,
  ) {}

  async verify(bundle: unknown, files?: readonly FileDigest[], witness: WitnessOptions = {}): Promise<OnlineVerdict> {
    const policy = witnessPolicyOf(witness);
    const material = (bundle as { verificationMaterial?: { tlogEntries?: unknown; publicKey?: { hint?: unknown } } } | null)?.verificationMaterial;
    const entries = material?.tlogEntries;
    // A release key another instance rotated in moments ago: look before calling it unknown.
    const hint = material?.publicKey?.hint;
    if (typeof hint === 'string' && !this.keys.get(hint)) await this.keys.refresh();
    // A bundle with its log entry is verified as it is, and the record looked up by the release it
    // names (the bundle is read once). One saved before its entry existed is completed from the
    // record first, so it verifies (with the log's time) without being downloaded again.
    let record: SignatureRecord | undefined;
    let subject = bundle;
    if (!Array.isArray(entries) || entries.length === 0) {
      record = await this.recordFor(bundle);
      if (record && sameSignature(record, bundle) && record.bundle.verificationMaterial.tlogEntries.length > 0) {
        subject = { ...(bundle as Bundle), verificationMaterial: { ...(bundle as Bundle).verificationMaterial, tlogEntries: record.bundle.verificationMaterial.tlogEntries } };
      }
    }
    const verdict = verifyBundle(subject, { resolveKey: (kid) => this.keys.trusted(kid), logKeys: () => this.keys.trustedLogKeys(), hasher: this.hasher, verifySignature: this.verifySignature,
      ...(files ? { files } : {}),
      ...(policy ? { witnesses: { policy, ...(witness.proof !== undefined ? { proof: witness.proof } : {}), now: this.clock.now().getTime() } } : {}),
    });
    const online: OnlineVerdict = { ...verdict, signatureId: null, signedAt: null };
    // Only a bundle whose signature checks out is worth reporting as recorded or not.
    if (verdict.model === null || verdict.version === null || verdict.reasons.some((r) => r.code === 'signature_invalid' || r.code === 'signature_malformed' || r.code === 'key_unknown' || r.code === 'key_mismatch')) {
      return online;
    }
    record ??= await this.signatures.findRelease(verdict.model, verdict.version);
    if (!record || !sameSignature(record, bundle)) {
      online.reasons = [
        ...online.reasons,
        { code: 'signature_unrecorded', message: `the service has no record of this signature for ${verdict.model}@${verdict.version}` },
      ];
      online.valid = false;
      return online;
    }
    online.signatureId = record.id;
    online.signedAt = record.createdAt;
    return online;
  }

  private async recordFor(bundle: unknown): Promise<SignatureRecord | undefined> {
    const envelope = readEnvelope(bundle);
    if (!envelope.ok) return undefined;
    const claim = readClaim(envelope.value.payload);
    if (!claim.ok || claim.value.model === null || claim.value.version === null) return undefined;
    return this.signatures.findRelease(claim.value.model, claim.value.version);
  }
}

function witnessPolicyOf(witness: WitnessOptions): WitnessPolicy | undefined {
  if (witness.policy === undefined) {
    if (witness.proof !== undefined) throw new ModelsignError('validation_failed', 'a proof is checked against a witness policy: give `policy` with it');
    return undefined;
  }
  try {
    return parseWitnessPolicy(witness.policy);
  } catch (err) {
    if (err instanceof TlogError) throw new ModelsignError('witness_policy_malformed', err.message);
    throw err;
  }
}

function sameSignature(record: SignatureRecord, bundle: unknown): boolean {
  return record.bundle.dsseEnvelope.signatures[0]!.sig === (bundle as Bundle).dsseEnvelope?.signatures?.[0]?.sig;
}
