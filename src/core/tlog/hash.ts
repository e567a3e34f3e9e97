// RFC 6962 / RFC 9162 hashing, as an injected hasher (transparency-dev/merkle's LogHasher): leaf
// and interior-node hashes are domain-separated, so a leaf can never be passed off as an interior
// node (second-preimage attack on the tree). Every unit that hashes tree nodes takes a LogHasher;
// the portable one (RFC6962, @noble/hashes) is the default, the service passes one over
// node:crypto (several times faster on its hot paths).
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export const HASH_SIZE = 32;

/** SHA-256 over the concatenation of `parts`. */
export type Sha256 = (...parts: Uint8Array[]) => Uint8Array;

export interface LogHasher {
  /** Plain SHA-256, for what the log commits to beside its tree (payload digests in leaves). */
  readonly sha256: Sha256;
  /** The root of the empty tree: SHA-256 of the empty string. */
  emptyRoot(): Uint8Array;
  /** SHA-256(0x00 || data). */
  hashLeaf(data: Uint8Array): Uint8Array;
  /** SHA-256(0x01 || left || right). */
  hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array;
}

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

export function rfc6962Hasher(sha256: Sha256): LogHasher {
  return {
    sha256,
    emptyRoot: () => sha256(),
    hashLeaf: (data) => sha256(LEAF_PREFIX, data),
    hashChildren: (left, right) => sha256(NODE_PREFIX, left, right),
  };
}

export const portableSha256: Sha256 = (...parts) => {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The portable hasher: runs in any JavaScript runtime. */
export const RFC6962: LogHasher = rfc6962Hasher(portableSha256);

// The portable hasher's operations by name, for clients (verifier.ts) and tests.
export const leafHash = (data: Uint8Array): Uint8Array => RFC6962.hashLeaf(data);
export const emptyRoot = (): Uint8Array => RFC6962.emptyRoot();
