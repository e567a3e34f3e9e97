// GET /v1/trusted-root: the log as a Sigstore TrustedRoot (protobuf-specs `TrustedRoot`, JSON),
// which sigstore-js, sigstore-go and cosign take as trust material for modelsign's bundles:
// every log key that has signed checkpoints, each with its validity window and its Sigstore log
// ID (the C2SP key ID under the log's origin), and no certificate authority, CT log or
// timestamp authority (modelsign signs with keys, and its log's time is in the checkpoint's
// cosignature). Media type version 0.1: sigstore-go refuses any other.
// Rules and the clients' checks: ../../docs/design/log.md, research sigstore-interop.md §2.5.
import { toBase64 } from '../core/bytes.ts';
import { spkiDer } from '../core/crypto/public-key.ts';
import { algorithmOf } from '../core/crypto/registry.ts';
import type { KeyRecord } from '../core/keys/key.ts';
import { isHostOrigin, logIdOf } from '../core/tlog/log-id.ts';

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

/**
 * The trusted root's baseUrl: the public URL when the origin is its host name (sigstore-go and
 * cosign require origin = host of baseUrl). A log with an older origin (say
 * `modelsign.local/log`) gets `https://<origin>`, which contains the origin as sigstore-js
 * requires (a substring match); go-based clients cannot verify such a log.
 */
export function trustedRootBaseUrl(origin: string, publicUrl: string): string {
  return isHostOrigin(origin, publicUrl) ? publicUrl : `https://${origin}`;
}

export function trustedRoot(keys: readonly KeyRecord[], origin: string, publicUrl: string) {
  const baseUrl = trustedRootBaseUrl(origin, publicUrl);
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: keys
      .filter((k) => k.purpose === 'log' && k.status !== 'pending')
      .map((k) => {
        // A retired key signed until it was retired; a revoked key's signatures are trusted only
        // before its compromise.
        const end = k.status === 'revoked' ? (k.compromisedAt ?? k.revokedAt) : k.status === 'retired' ? k.retiredAt : null;
        const logId = { keyId: toBase64(logIdOf(origin, k)) };
        return {
          baseUrl,
          hashAlgorithm: 'SHA2_256',
          publicKey: {
            rawBytes: toBase64(spkiDer(k)),
            keyDetails: algorithmOf(k.algorithm).keyDetails,
            validFor: { start: (k.activatedAt ?? k.createdAt).toISOString(), ...(end ? { end: end.toISOString() } : {}) },
          },
          logId,
          checkpointKeyId: logId,
        };
      }),
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
}
