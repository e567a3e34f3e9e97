// The rotation chain: how a client that pinned one release key learns, offline, which later
// keys to trust. Each release key is introduced by a link statement signed (DSSE) by the release
// key active before it, and each log key by one signed by the active release key. Following the
// links from the pinned key yields the trusted release and log keys.
//
// ECDSA P-256 release keys join the same chain: the active Ed25519 release key introduces the
// first one, and each ECDSA key introduces the next; a statement names a key's algorithm when it
// is not the default. So one pinned key (of either algorithm) leads to the keys of both.
//
// Rules (verifyKeyChain):
// - a link counts only if its signer is already trusted, is a release key and is not revoked;
//   a link from a trusted signer that does not verify is an error (the chain was altered);
// - statuses come from the chain document and can only restrict: a revoked key keeps verifying
//   what the log proves it signed before compromisedAt, but introduces no key after it, so a
//   client must re-pin after a release key is compromised (as TUF clients do after a root
//   compromise).
import { fromBase64, fromUtf8, toBase64, utf8 } from '../bytes.ts';
import type { AlgorithmId } from '../crypto/algorithm.ts';
import { algorithmOf, DEFAULT_ALGORITHM, isAlgorithmId } from '../crypto/registry.ts';
import { keyIdOf, parseJwk, verifySignature } from '../crypto/public-key.ts';
import { preAuthEncoding } from '../dsse.ts';
import { isObject } from '../guards.ts';
import { isKeyStatus, type PublicKey, type TrustedKey } from './key.ts';

export const KEY_LINK_PAYLOAD_TYPE = 'application/vnd.modelsign.key-link+json';
export const KEY_LINK_TYPE = 'https://modelsign.dev/key-link/v1';

interface LinkedKey {
  kid: string;
  /** The raw public key, standard base64 (RFC 8032 for Ed25519, the uncompressed point for ECDSA). */
  publicKey: string;
  /** The key's algorithm; absent means the default (Ed25519), as in every link made before ECDSA keys. */
  algorithm?: AlgorithmId;
}

export interface KeyLinkStatement {
  _type: typeof KEY_LINK_TYPE;
  purpose: 'release' | 'log';
  signer: LinkedKey;
  key: LinkedKey;
  createdAt: string;
}

// A key of the default algorithm is written as before the algorithm member existed, so links
// made by earlier versions and by this one read alike.
function linkedKey(key: PublicKey): LinkedKey {
  return { kid: keyIdOf(key), publicKey: toBase64(key.publicKey), ...(key.algorithm === DEFAULT_ALGORITHM ? {} : { algorithm: key.algorithm }) };
}

/** The key a statement introduces, if it is a well-formed key of a known algorithm. */
function introducedKey(linked: LinkedKey | undefined): PublicKey | undefined {
  const algorithm = linked?.algorithm ?? DEFAULT_ALGORITHM;
  const raw = typeof linked?.publicKey === 'string' ? fromBase64(linked.publicKey) : undefined;
  if (!isAlgorithmId(algorithm) || !raw) return undefined;
  try {
    algorithmOf(algorithm).spki(raw);
  } catch {
    return undefined;
  }
  return { algorithm, publicKey: raw };
}

export function encodeKeyLink(s: { purpose: 'release' | 'log'; signer: PublicKey; key: PublicKey; createdAt: Date }): Uint8Array {
  const statement: KeyLinkStatement = {
    _type: KEY_LINK_TYPE,
    purpose: s.purpose,
    signer: linkedKey(s.signer),
    key: linkedKey(s.key),
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

type ChainKey = TrustedKey & { compromisedAt: Date | null };

function readKeys(doc: Record<string, unknown>): Map<string, ChainKey> {
  if (!Array.isArray(doc.keys)) throw new KeyChainError('chain_malformed', 'the chain document needs `keys`');
  const keys = new Map<string, ChainKey>();
  for (const k of doc.keys) {
    const key = parseJwk(k);
    if (!isObject(k) || !key || typeof k.kid !== 'string' || keyIdOf(key) !== k.kid || !isKeyStatus(k.status) || (k.purpose !== 'release' && k.purpose !== 'log')) {
      throw new KeyChainError('chain_malformed', 'a chain key needs kid, a public JWK of a known algorithm hashing to kid, purpose release|log and status');
    }
    const compromisedAt = typeof k.compromisedAt === 'string' ? new Date(k.compromisedAt) : null;
    if (compromisedAt && Number.isNaN(compromisedAt.getTime())) throw new KeyChainError('chain_malformed', `bad compromisedAt for ${k.kid}`);
    keys.set(k.kid, { kid: k.kid, ...key, purpose: k.purpose, status: k.status, compromisedAt });
  }
  return keys;
}

/**
 * The keys a client that pinned `pinned` (a release key) may trust, from a chain document
 * (GET /v1/keys/chain). Throws KeyChainError on a malformed document or an altered link.
 */
export function verifyKeyChain(doc: unknown, pinned: PublicKey): TrustedKey[] {
  if (!isObject(doc) || !Array.isArray(doc.links)) throw new KeyChainError('chain_malformed', 'the chain document needs `keys` and `links`');
  const keys = readKeys(doc);
  const pinnedKid = keyIdOf(pinned);
  const pin = keys.get(pinnedKid);
  if (!pin || pin.purpose !== 'release') throw new KeyChainError('chain_pin_unknown', `the pinned key ${pinnedKid} is not a release key of this chain`);
  const trusted = new Map<string, ChainKey>([[pinnedKid, { ...pin, algorithm: pinned.algorithm, publicKey: pinned.publicKey }]]);
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
    if (env.payloadType !== KEY_LINK_PAYLOAD_TYPE || !payload || !signature || algorithmOf(signer.algorithm).signatureProblem(signature) !== undefined) {
      throw new KeyChainError('chain_link_invalid', `link ${i} (introducing ${link.kid}) is not a DSSE envelope with one ${signer.algorithm} signature`);
    }
    if (!verifySignature(signer, signature, preAuthEncoding(KEY_LINK_PAYLOAD_TYPE, payload))) {
      throw new KeyChainError('chain_link_invalid', `link ${i} (introducing ${link.kid}) is not signed by ${signer.kid}`);
    }
    let statement: KeyLinkStatement;
    try {
      statement = JSON.parse(fromUtf8(payload)) as KeyLinkStatement;
    } catch {
      throw new KeyChainError('chain_link_invalid', `link ${i} does not carry a JSON statement`);
    }
    const introduced = isObject(statement) ? introducedKey(statement.key) : undefined;
    if (
      statement._type !== KEY_LINK_TYPE ||
      statement.signer?.kid !== signer.kid ||
      !introduced ||
      keyIdOf(introduced) !== link.kid ||
      statement.key.kid !== link.kid ||
      (statement.purpose !== 'release' && statement.purpose !== 'log')
    ) {
      throw new KeyChainError('chain_link_invalid', `link ${i}'s statement does not introduce ${link.kid} with its signer ${signer.kid}`);
    }
    const listed = keys.get(link.kid);
    trusted.set(link.kid, {
      kid: link.kid,
      ...introduced,
      purpose: statement.purpose,
      // A key the document does not list is taken as it was introduced; a listed one with the
      // status the document gives it (which can only make it less trusted).
      status: listed?.status ?? 'active',
      compromisedAt: listed?.compromisedAt ?? null,
    });
  }
  return [...trusted.values()];
}
