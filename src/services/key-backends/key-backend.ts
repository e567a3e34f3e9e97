// Where private keys live, behind one interface (Vault's managed-key indirection). The key service
// decides *when* keys are made, loaded, re-protected and destroyed; a backend decides *how*: the
// KEK-wrapped backend (kek-wrapped.ts) keeps them AES-256-GCM-encrypted in the key's row and signs
// with node:crypto; the PKCS#11 backend (pkcs11/) keeps them in a hardware token and signs there;
// routed.ts puts each key slot in one of them and loads each key from the one that holds it.
// Adding one: docs/design/keys.md.
import type { Signer } from '../../core/crypto/algorithm.ts';
import type { PublicKey } from '../../core/keys/key.ts';
import type { KeySlot } from '../../core/keys/lifecycle.ts';
import type { Tx } from '../../db/client.ts';
import type { StoredKeyMaterial } from '../../db/key-store.ts';
import type { Kek } from './kek.ts';

/** A start-up failure of a backend the operator fixes (module, token, PIN, mechanisms): one line, non-zero exit. */
export class KeyBackendError extends Error {
  override readonly name = 'KeyBackendError';
}

export interface NewKey {
  kid: string;
  publicKey: PublicKey;
  /** What the key's row keeps of the private half (never the key itself in clear). */
  material: StoredKeyMaterial;
}

export interface RewrapResult {
  /** Keys re-encrypted. */
  keys: number;
  /** Keys left alone because a token holds them. */
  skipped: number;
  previous: string;
  committed(): void;
}

export interface KeyBackend {
  /**
   * Makes a key pair for `slot`. Runs inside the key service's locked transaction, so a
   * backend may refuse on what the database holds (the KEK backend refuses to add keys under a
   * KEK other than the one the stored keys use).
   */
  generate(tx: Tx, slot: KeySlot): Promise<NewKey>;
  /**
   * A signer for a stored key; throws kek_mismatch when the material is not this key's, and
   * key_unavailable when the key cannot sign here (its token object is missing or not this key).
   */
  load(kid: string, key: PublicKey, material: StoredKeyMaterial): Promise<Signer>;
  /**
   * Re-protects every KEK-held key under `next` in `tx` (KEK rotation): how many keys, how many
   * were skipped (held in a token), the previous KEK's id, and what to call once the transaction
   * has committed (from then on, `next` is used).
   */
  rewrap?(tx: Tx, next: Kek): Promise<RewrapResult>;
  /**
   * Destroys the private half of a key that will never sign again: true when there was one to
   * destroy, false when it was already gone, undefined when this backend does not hold it.
   */
  destroy?(kid: string, material: StoredKeyMaterial): Promise<boolean | undefined>;
  /** Where new keys of `slot` are made (a KEK-held active key of a token slot is reported at start). */
  placement?(slot: KeySlot): StoredKeyMaterial['kind'];
  /** Whether the backend can sign now (false while a token is away). */
  available?(): boolean;
  /** Releases the backend's resources (token sessions) at shutdown. */
  close?(): Promise<void>;
}
