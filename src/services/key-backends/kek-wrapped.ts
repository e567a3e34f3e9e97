// The default key backend: private keys made by node:crypto, stored in their row encrypted under
// the KEK (kek.ts: AES-256-GCM, the kid as associated data), and held in this process only as
// KeyObjects. The KEK can be rotated with every key re-wrapped in one transaction (rewrap).
import type { Signer } from '../../core/crypto/algorithm.ts';
import { keyIdOf } from '../../core/crypto/public-key.ts';
import { ModelsignError } from '../../core/errors.ts';
import type { PublicKey } from '../../core/keys/key.ts';
import type { KeySlot } from '../../core/keys/lifecycle.ts';
import type { Tx } from '../../db/client.ts';
import { foreignKekId, lockAllKeyMaterial, updateKeyMaterial, type StoredKeyMaterial } from '../../db/key-store.ts';
import type { KeyBackend, NewKey, RewrapResult } from './key-backend.ts';
import { unwrapKey, wrapKey, type Kek } from './kek.ts';
import { generateNodeKey, nodeSigner, privateKeyOf, publicKeyOf } from './node-keys.ts';

export class KekWrappedBackend implements KeyBackend {
  constructor(private kek: Kek) {}

  async generate(tx: Tx, slot: KeySlot): Promise<NewKey> {
    // After `admin rewrap`, an instance still holding the old KEK must not add keys under it.
    const foreign = await foreignKekId(tx, this.kek.id);
    if (foreign !== undefined) throw new ModelsignError('kek_mismatch', `stored keys are wrapped under KEK ${foreign}, this instance holds ${this.kek.id}: restart it with the current KEK`);
    const { publicKey, material } = generateNodeKey(slot.algorithm);
    try {
      const kid = keyIdOf(publicKey);
      return { kid, publicKey, material: { kind: 'kek', privateKeyCt: wrapKey(this.kek, kid, material), kekId: this.kek.id } };
    } finally {
      material.fill(0);
    }
  }

  async load(kid: string, key: PublicKey, stored: StoredKeyMaterial): Promise<Signer> {
    if (stored.kind !== 'kek') throw new ModelsignError('key_unavailable', `key ${kid} is held in the PKCS#11 token "${stored.token}": start with MODELSIGN_KEY_BACKEND=pkcs11`);
    const material = unwrapKey(this.kek, kid, stored.privateKeyCt);
    let privateKey;
    try {
      privateKey = privateKeyOf(key, material);
    } catch {
      throw new ModelsignError('kek_mismatch', `the stored private key of ${kid} is not a ${key.algorithm} key`);
    } finally {
      material.fill(0);
    }
    // A row whose ciphertext belongs to another key must never sign under this kid.
    if (keyIdOf(publicKeyOf(privateKey)) !== kid) throw new ModelsignError('kek_mismatch', `the stored private key of ${kid} does not match its public key`);
    return nodeSigner(kid, key, privateKey);
  }

  /**
   * Re-encrypts every KEK-held private key under `next` (token-held ones are counted as
   * skipped); the rows are locked, so a concurrent rotation waits. Instances keep signing with
   * the keys they hold in memory; they must be restarted with the new KEK before they can load or
   * create keys again.
   */
  async rewrap(tx: Tx, next: Kek): Promise<RewrapResult> {
    const all = await lockAllKeyMaterial(tx);
    const rows = all.filter((row) => row.kind === 'kek');
    for (const row of rows) {
      if (row.kekId !== this.kek.id && row.kekId !== next.id) {
        throw new ModelsignError('kek_mismatch', `key ${row.kid} is wrapped under KEK ${row.kekId}, neither the current (${this.kek.id}) nor the new one`);
      }
      if (row.kekId === next.id) continue;
      const material = unwrapKey(this.kek, row.kid, row.privateKeyCt);
      try {
        await updateKeyMaterial(tx, row.kid, { kind: 'kek', privateKeyCt: wrapKey(next, row.kid, material), kekId: next.id });
      } finally {
        material.fill(0);
      }
    }
    return {
      keys: rows.length,
      skipped: all.length - rows.length,
      previous: this.kek.id,
      committed: () => {
        this.kek = next;
      },
    };
  }
}
