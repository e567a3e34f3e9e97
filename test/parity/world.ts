// The fixed world of the parity vectors: release keys of both algorithms, a log key and a retired
// one, all from fixed seeds, and a way to make a fully valid, logged bundle from any payload (its
// own small tree, signed checkpoint and inclusion proof), so each mutation breaks exactly the
// check it is about. Everything is deterministic: Ed25519 signatures are, and @noble/curves signs
// ECDSA with RFC 6979 nonces.
import { p256 } from '@noble/curves/nist.js';
import { buildBundle, type Bundle } from '../../src/core/bundle.ts';
import { toBase64, toBase64Url, utf8 } from '../../src/core/bytes.ts';
import { ed25519PublicKey, ed25519Sign } from '../../src/core/crypto/ed25519.ts';
import { keyIdOf, toJwk } from '../../src/core/crypto/public-key.ts';
import type { AlgorithmId } from '../../src/core/crypto/algorithm.ts';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from '../../src/core/dsse.ts';
import { encodeKeyLink, KEY_LINK_PAYLOAD_TYPE } from '../../src/core/keys/key-chain.ts';
import type { PublicKey } from '../../src/core/keys/key.ts';
import { buildManifest } from '../../src/core/manifest.ts';
import { buildStatement, encodeStatement } from '../../src/core/statement.ts';
import type { KindVersion } from '../../src/core/tlog/entries/entry-kind.ts';
import { leafFor } from '../../src/core/tlog/entries/registry.ts';
import { leafHash, portableSha256 } from '../../src/core/tlog/hash.ts';
import { signCheckpoint, verifyCheckpoint } from '../../src/core/tlog/log-note.ts';
import { buildTlogEntry } from '../../src/core/tlog/tlog-entry.ts';
import { NaiveTree } from '../support/naive-merkle.ts';
import { referenceSigner } from '../support/signers.ts';
import { readClaim } from '../../src/core/read-bundle.ts';

export const ORIGIN = 'parity.example.com';
/** The log's signed time of every checkpoint here (2027-01-15T09:00:00Z). */
export const LOGGED_AT = 1_800_003_600;
export const HASHEDREKORD: KindVersion = { kind: 'hashedrekord', version: '0.0.2' };
export const MODELSIGN_V1: KindVersion = { kind: 'modelsign-release', version: '1' };

export interface ReleaseSigner extends PublicKey {
  kid: string;
  sign(message: Uint8Array): Uint8Array;
}

function ed25519Signer(seedByte: number): ReleaseSigner {
  const seed = new Uint8Array(32).fill(seedByte);
  const publicKey = ed25519PublicKey(seed);
  return { algorithm: 'Ed25519', publicKey, kid: keyIdOf({ algorithm: 'Ed25519', publicKey }), sign: (m) => ed25519Sign(m, seed) };
}

function p256Signer(seedByte: number): ReleaseSigner {
  const secret = new Uint8Array(32).fill(seedByte);
  const publicKey = p256.getPublicKey(secret, false);
  return { algorithm: 'ECDSA P-256' as AlgorithmId, publicKey, kid: keyIdOf({ algorithm: 'ECDSA P-256', publicKey }), sign: (m) => p256.sign(m, secret, { format: 'der' }) };
}

export const RELEASE = ed25519Signer(0x11);
export const RELEASE_ECDSA = p256Signer(0x12);
/** Introduced by RELEASE through the rotation chain. */
export const RELEASE_NEXT = ed25519Signer(0x13);
export const LOG = referenceSigner(new Uint8Array(32).fill(0x21));
export const OTHER_LOG = referenceSigner(new Uint8Array(32).fill(0x22));

export const FILES = [
  { path: 'config.json', content: '{"layers": 2}\n' },
  { path: 'weights/model.safetensors', content: 'weights 1\n' },
];
const sha = (text: string) => toHex(portableSha256(utf8(text)));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const FILE_DIGESTS = FILES.map((f) => ({ path: f.path, sha256: sha(f.content) }));

/** The statement bytes of a release of FILES (or other files). */
export function statementBytes(subject = 'acme/model@1.0', files = FILE_DIGESTS, ignorePaths: string[] = []): Uint8Array {
  return encodeStatement(buildStatement(subject, buildManifest(files.map((f) => ({ ...f })), ignorePaths)));
}

export function editedStatement(edit: (s: any) => void, base: Uint8Array = statementBytes()): Uint8Array {
  const statement = JSON.parse(Buffer.from(base).toString('utf8'));
  edit(statement);
  return utf8(JSON.stringify(statement));
}

export interface LoggedOptions {
  kind?: KindVersion;
  signer?: ReleaseSigner;
  /** The log key that signs the checkpoint. */
  log?: typeof LOG;
  /** The entry's index in its tree of `size` leaves (the others are fillers). */
  index?: number;
  size?: number;
}

/** A bundle of `payload` signed by `signer`, logged in its own tree, with a valid entry. */
export async function logged(payload: Uint8Array, o: LoggedOptions = {}): Promise<Bundle> {
  const signer = o.signer ?? RELEASE;
  const kind = o.kind ?? HASHEDREKORD;
  const index = o.index ?? 2;
  const size = o.size ?? 5;
  const log = o.log ?? LOG;
  const signature = signer.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
  const bundle = buildBundle({ payload, signature, kid: signer.kid });
  const claim = readClaim(payload);
  const subject = claim.ok ? claim.value.subject : 'acme/model@1.0';
  const rootDigest = claim.ok ? claim.value.rootDigest : '0'.repeat(64);
  const leaf = leafFor(kind, { subject, rootDigest, payloadType: IN_TOTO_PAYLOAD_TYPE, payload, kid: signer.kid, key: signer, signature }, portableSha256);
  const leaves = Array.from({ length: size }, (_, i) => (i === index ? leafHash(leaf) : leafHash(utf8(`filler ${i}`))));
  const tree = new NaiveTree(leaves);
  const note = await signCheckpoint({ origin: ORIGIN, size, rootHash: tree.root(size) }, log, LOGGED_AT);
  bundle.verificationMaterial.tlogEntries = [buildTlogEntry({ index, logKid: log.kid, logKey: log, checkpoint: verifyCheckpoint(note, log), proof: tree.inclusion(index, size), kindVersion: kind, leaf })];
  return bundle;
}

export interface TrustEntry {
  kid: string;
  jwk: Record<string, string>;
  purpose: 'release' | 'log';
  status: 'pending' | 'active' | 'retired' | 'revoked';
  compromisedAt?: string;
}

export function trustEntry(key: PublicKey & { kid: string }, purpose: TrustEntry['purpose'] = 'release', status: TrustEntry['status'] = 'active', compromisedAt?: string): TrustEntry {
  return { kid: key.kid, jwk: toJwk(key) as unknown as Record<string, string>, purpose, status, ...(compromisedAt ? { compromisedAt } : {}) };
}

/** The usual trust: both release keys and the log key, active. */
export const WORLD_TRUST: TrustEntry[] = [trustEntry(RELEASE), trustEntry(RELEASE_ECDSA), trustEntry(LOG, 'log')];

/** A JWKS document (GET /v1/keys) of trust entries. */
export function jwks(entries: TrustEntry[]) {
  return { keys: entries.map((e) => ({ ...e.jwk, kid: e.kid, purpose: e.purpose, status: e.status, ...(e.compromisedAt ? { compromisedAt: e.compromisedAt } : {}) })) };
}

/** A link of the rotation chain, as GET /v1/keys/chain serves it. */
export function chainLink(seq: number, signer: ReleaseSigner, key: PublicKey & { kid: string }, purpose: 'release' | 'log') {
  const payload = encodeKeyLink({ purpose, signer, key, createdAt: new Date(Date.UTC(2027, 0, 1 + seq)) });
  const sig = signer.sign(preAuthEncoding(KEY_LINK_PAYLOAD_TYPE, payload));
  return { seq, purpose, signer: signer.kid, kid: key.kid, createdAt: new Date(Date.UTC(2027, 0, 1 + seq)).toISOString(), envelope: { payloadType: KEY_LINK_PAYLOAD_TYPE, payload: toBase64(payload), signatures: [{ keyid: signer.kid, sig: toBase64(sig) }] } };
}

export function chainKey(key: PublicKey & { kid: string }, purpose: 'release' | 'log', status: TrustEntry['status'] = 'active', compromisedAt: string | null = null) {
  return { kid: key.kid, ...toJwk(key), purpose, status, createdAt: '2027-01-01T00:00:00.000Z', compromisedAt };
}

export { toBase64Url };
