// How keys are shown: the JWK of GET /v1/keys (RFC 8037 / RFC 7518 members from the key's
// algorithm, plus kid, purpose, status and lifecycle times), one key with its PEM, and the
// rotation chain document core/keys/key-chain.ts verifies. Used by the routes, the admin commands
// and the web console alike.
import { toBase64 } from '../core/bytes.ts';
import { algorithmOf } from '../core/crypto/registry.ts';
import { spkiPem, toJwk } from '../core/crypto/public-key.ts';
import { KEY_LINK_PAYLOAD_TYPE } from '../core/keys/key-chain.ts';
import type { KeyLink, KeyRecord } from '../core/keys/key.ts';
import type { Wire } from './wire.ts';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function jwkOf(key: KeyRecord): Wire['Jwk'] {
  return {
    ...toJwk(key),
    kid: key.kid,
    alg: algorithmOf(key.algorithm).jwsAlg,
    use: 'sig',
    purpose: key.purpose,
    status: key.status,
    createdAt: key.createdAt.toISOString(),
    activatedAt: iso(key.activatedAt),
    activatesAt: iso(key.activatesAt),
    retiredAt: iso(key.retiredAt),
    revokedAt: iso(key.revokedAt),
    compromisedAt: iso(key.compromisedAt),
    reason: key.reason,
  };
}

/** GET /v1/keys/{kid}. */
export function keyView(key: KeyRecord): Wire['KeyDetail'] {
  return { kid: key.kid, jwk: jwkOf(key), pem: spkiPem(key) };
}

/** GET /v1/keys/chain: the release and log keys, and the links that introduce them. */
export function chainDocument(chain: { keys: readonly KeyRecord[]; links: readonly KeyLink[] }): Wire['KeyChain'] {
  return {
    keys: chain.keys.map((k) => ({ kid: k.kid, ...toJwk(k), purpose: k.purpose, status: k.status, createdAt: k.createdAt.toISOString(), compromisedAt: iso(k.compromisedAt) })),
    links: chain.links.map((l) => ({
      seq: l.seq,
      // Only release and log keys are introduced by links (core/keys/key-chain.ts).
      purpose: l.purpose as 'release' | 'log',
      signer: l.signerKid,
      kid: l.kid,
      createdAt: l.createdAt.toISOString(),
      envelope: { payloadType: KEY_LINK_PAYLOAD_TYPE, payload: toBase64(l.payload), signatures: [{ keyid: l.signerKid, sig: toBase64(l.signature) }] },
    })),
  };
}
