// Where private keys live, behind one interface (Vault's managed-key indirection). The key service
// decides *when* keys are made, loaded and re-protected; a backend decides *how*: the KEK-wrapped
// backend (kek-wrapped.ts) keeps them AES-256-GCM-encrypted in the key's row and signs with
// node:crypto; a PKCS#11 backend would keep them in a hardware token and sign there. Adding one:
// docs/design/keys.md.
import type { AlgorithmId, Signer } from '../../core/crypto/algorithm.ts';
import type { PublicKey } from '../../core/keys/key.ts';
import type { Tx } from '../../db/client.ts';
import type { StoredKeyMaterial } from '../../db/key-store.ts';
import type { Kek } from './kek.ts';

export interface NewKey {
  kid: string;
  publicKey: PublicKey;
  /** What the key's row keeps of the private half (never the key itself in clear). */
  material: StoredKeyMaterial;
}

export interface KeyBackend {
  /**
   * Makes a key pair of `algorithm`. Runs inside the key service's locked transaction, so a
   * backend may refuse on what the database holds (the KEK backend refuses to add keys under a
   * KEK other than the one the stored keys use).
   */
  generate(tx: Tx, algorithm: AlgorithmId): Promise<NewKey>;
  /** A signer for a stored key; throws kek_mismatch when the material is not this key's. */
  load(kid: string, key: PublicKey, material: StoredKeyMaterial): Promise<Signer>;
  /**
   * Re-protects every key under `next` in `tx` (KEK rotation): how many keys, the previous KEK's
   * id, and what to call once the transaction has committed (from then on, `next` is used).
   */
  rewrap?(tx: Tx, next: Kek): Promise<{ keys: number; previous: string; committed(): void }>;
}
