// The signature bundle (`model.sig`): a Sigstore bundle v0.3 whose DSSE envelope wraps an OMS
// statement, as the OpenSSF model_signing tool writes it; `publicKey.hint` names the key.
import { toBase64 } from './bytes.ts';
import { IN_TOTO_PAYLOAD_TYPE, type DsseEnvelope } from './dsse.ts';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface Bundle {
  mediaType: string;
  verificationMaterial: {
    publicKey: { hint: string };
    tlogEntries: unknown[];
  };
  dsseEnvelope: DsseEnvelope;
}

export interface BundleParts {
  payload: Uint8Array;
  signature: Uint8Array;
  kid: string;
  tlogEntries?: unknown[];
}

export function buildBundle(parts: BundleParts): Bundle {
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: parts.kid }, tlogEntries: parts.tlogEntries ?? [] },
    dsseEnvelope: {
      payload: toBase64(parts.payload),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      // keyid stays empty as upstream writes it; the key is named by publicKey.hint.
      signatures: [{ sig: toBase64(parts.signature), keyid: '' }],
    },
  };
}
