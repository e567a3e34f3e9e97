// The rotation chain: how a client that pinned one release key learns, offline, which later
// keys to trust. Each release key is introduced by a link statement signed (DSSE) by the release
// key active before it, and each log key by one signed by the active release key. Following the
// links from the pinned key yields the trusted release and log keys.
//
// Rules (verifyKeyChain):
// - a link counts only if its signer is already trusted, is a release key and is not revoked;
//   a link from a trusted signer that does not verify is an error (the chain was altered);
// - statuses come from the chain document and can only restrict: a revoked key keeps verifying
//   what the log proves it signed before compromisedAt, but introduces no key after it, so a
//   client must re-pin after a release key is compromised (as TUF clients do after a root
//   compromise).
import { fromBase64, fromBase64Url, fromUtf8, toBase64, utf8 } from './bytes.ts';
import { preAuthEncoding } from './dsse.ts';
import { ed25519Verify } from './ed25519.ts';
import { keyIdOf } from './public-key.ts';
import type { KeyPurpose, KeyStatus } from './verdict.ts';
import type { TrustedKey } from './verify-bundle.ts';

export const KEY_LINK_PAYLOAD_TYPE = 'application/vnd.modelsign.key-link+json';
export const KEY_LINK_TYPE = 'https://modelsign.dev/key-link/v1';

export interface KeyLinkStatement {
  _type: typeof KEY_LINK_TYPE;
  purpose: 'release' | 'log';
  signer: { kid: string; publicKey: string };
  key: { kid: string; publicKey: string };
  createdAt: string;
}

export function encodeKeyLink(s: { purpose: 'release' | 'log'; signer: Uint8Array; key: Uint8Array; createdAt: Date }): Uint8Array {
  const statement: KeyLinkStatement = {
    _type: KEY_LINK_TYPE,
    purpose: s.purpose,
    signer: { kid: keyIdOf(s.signer), publicKey: toBase64(s.signer) },
    key: { kid: keyIdOf(s.key), publicKey: toBase64(s.key) },
    createdAt: s.createdAt.toISOString(),
  };
  return utf8(JSON.stringify(statement));
}

export type KeyChainErrorCode = 'chain_malformed' | 'chain_link_invalid' | 'chain_pin_unknown';

export class KeyChainError extends Error {
  override readonly name = 'KeyChainError';
  constructor(
    readonly code: KeyChainErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const KEY_STATUSES = ['pending', 'active', 'retired', 'revoked'] as const;
const STATUSES: readonly string[] = KEY_STATUSES;

interface DocKey {
  kid: string;
  publicKey: Uint8Array;
  purpose: KeyPurpose;
  status: KeyStatus;
  compromisedAt: Date | null;
}

function readKeys(doc: Record<string, unknown>): Map<string, DocKey> {
  if (!Array.isArray(doc.keys)) throw new KeyChainError('chain_malformed', 'the chain document needs `keys`');
  const keys = new Map<string, DocKey>();
  for (const k of doc.keys) {
    const publicKey = isObject(k) && typeof k.x === 'string' ? fromBase64Url(k.x) : undefined;
    if (!isObject(k) || !publicKey || typeof k.kid !== 'string' || keyIdOf(publicKey) !== k.kid || !STATUSES.includes(String(k.status)) || (k.purpose !== 'release' && k.purpose !== 'log')) {
      throw new KeyChainError('chain_malformed', 'a chain key needs kid, x (base64url Ed25519 key hashing to kid), purpose release|log and status');
    }
    const compromisedAt = typeof k.compromisedAt === 'string' ? new Date(k.compromisedAt) : null;
    if (compromisedAt && Number.isNaN(compromisedAt.getTime())) throw new KeyChainError('chain_malformed', `bad compromisedAt for ${k.kid}`);
    keys.set(k.kid, { kid: k.kid, publicKey, purpose: k.purpose, status: k.status as KeyStatus, compromisedAt });
  }
  return keys;
}

/**
 * The keys a client that pinned `pinned` (a release key) may trust, from a chain document
 * (GET /v1/keys/chain). Throws KeyChainError on a malformed document or an altered link.
 */
export function verifyKeyChain(doc: unknown, pinned: Uint8Array): TrustedKey[] {
  if (!isObject(doc) || !Array.isArray(doc.links)) throw new KeyChainError('chain_malformed', 'the chain document needs `keys` and `links`');
  const keys = readKeys(doc);
  const pinnedKid = keyIdOf(pinned);
  const pin = keys.get(pinnedKid);
  if (!pin || pin.purpose !== 'release') throw new KeyChainError('chain_pin_unknown', `the pinned key ${pinnedKid} is not a release key of this chain`);
  const trusted = new Map<string, DocKey>([[pinnedKid, { ...pin, publicKey: pinned }]]);
  for (const [i, link] of doc.links.entries()) {
    if (!isObject(link) || !isObject(link.envelope) || typeof link.signer !== 'string' || typeof link.kid !== 'string') {
      throw new KeyChainError('chain_malformed', `link ${i} needs signer, kid and envelope`);
    }
    const signer = trusted.get(link.signer);
    if (!signer || signer.purpose !== 'release' || signer.status === 'revoked') continue;
    const env = link.envelope;
    const sig = Array.isArray(env.signatures) && env.signatures.length === 1 && isObject(env.signatures[0]) ? env.signatures[0] : undefined;
    const payload = typeof env.payload === 'string' ? fromBase64(env.payload) : undefined;
    const signature = sig && typeof sig.sig === 'string' ? fromBase64(sig.sig) : undefined;
    if (env.payloadType !== KEY_LINK_PAYLOAD_TYPE || !payload || !signature || signature.length !== 64) {
      throw new KeyChainError('chain_link_invalid', `link ${i} (introducing ${link.kid}) is not a DSSE envelope with one Ed25519 signature`);
    }
    if (!ed25519Verify(signature, preAuthEncoding(KEY_LINK_PAYLOAD_TYPE, payload), signer.publicKey)) {
      throw new KeyChainError('chain_link_invalid', `link ${i} (introducing ${link.kid}) is not signed by ${signer.kid}`);
    }
    let statement: KeyLinkStatement;
    try {
      statement = JSON.parse(fromUtf8(payload)) as KeyLinkStatement;
    } catch {
      throw new KeyChainError('chain_link_invalid', `link ${i} does not carry a JSON statement`);
    }
    const introduced = typeof statement?.key?.publicKey === 'string' ? fromBase64(statement.key.publicKey) : undefined;
    if (
      statement._type !== KEY_LINK_TYPE ||
      statement.signer?.kid !== signer.kid ||
      !introduced ||
      introduced.length !== 32 ||
      keyIdOf(introduced) !== link.kid ||
      statement.key.kid !== link.kid ||
      (statement.purpose !== 'release' && statement.purpose !== 'log')
    ) {
      throw new KeyChainError('chain_link_invalid', `link ${i}'s statement does not introduce ${link.kid} with its signer ${signer.kid}`);
    }
    const listed = keys.get(link.kid);
    trusted.set(link.kid, {
      kid: link.kid,
      publicKey: introduced,
      purpose: statement.purpose,
      // A key the document does not list is taken as it was introduced; a listed one with the
      // status the document gives it (which can only make it less trusted).
      status: listed?.status ?? 'active',
      compromisedAt: listed?.compromisedAt ?? null,
    });
  }
  return [...trusted.values()].map((k) => ({ kid: k.kid, publicKey: k.publicKey, purpose: k.purpose, status: k.status, compromisedAt: k.compromisedAt }));
}
