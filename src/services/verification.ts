// Online verification: the pure verifier with this service's keys, plus what only the service
// knows: whether it actually recorded this signature, and when.
import type { Bundle } from '../core/bundle.ts';
import { toBase64 } from '../core/bytes.ts';
import { verifyBundle, type FileDigest } from '../core/verify-bundle.ts';
import type { Verdict } from '../core/verdict.ts';
import type { PrismaClient } from '../db/client.ts';
import type { KeyService } from './keys.ts';

export interface OnlineVerdict extends Verdict {
  signatureId: string | null;
  signedAt: Date | null;
  logIndex: number | null;
}

export class VerificationService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly keys: KeyService,
  ) {}

  async verify(bundle: unknown, files?: readonly FileDigest[]): Promise<OnlineVerdict> {
    const verdict = verifyBundle(bundle, { resolveKey: (kid) => this.keys.trusted(kid), ...(files ? { files } : {}) });
    const online: OnlineVerdict = { ...verdict, signatureId: null, signedAt: null, logIndex: null };
    // Only a bundle whose signature checks out is worth looking up: anything else is already invalid.
    if (verdict.model === null || verdict.version === null || verdict.reasons.some((r) => r.code.startsWith('signature_') || r.code.startsWith('key_'))) {
      return online;
    }
    // The verdict already proved the envelope well formed, and base64 is read canonically, so the
    // signature's text identifies it without decoding the (possibly large) payload a second time.
    const sig = (bundle as Bundle).dsseEnvelope.signatures[0]!.sig;
    const row = await this.prisma.releaseSignature.findUnique({
      where: { model_version: { model: verdict.model, version: verdict.version } },
      select: { id: true, signature: true, createdAt: true, logIndex: true },
    });
    if (!row || toBase64(row.signature) !== sig) {
      online.reasons = [
        ...online.reasons,
        { code: 'signature_unrecorded', message: `the service has no record of this signature for ${verdict.model}@${verdict.version}` },
      ];
      online.valid = false;
      return online;
    }
    online.signatureId = row.id;
    online.signedAt = row.createdAt;
    online.logIndex = row.logIndex === null ? null : Number(row.logIndex);
    return online;
  }
}
