// The backend an instance runs with: new keys of each slot are made where the configuration puts
// that slot (MODELSIGN_PKCS11_PURPOSES: the token, else KEK-wrapped), and every stored key is
// loaded from whichever backend holds it, so KEK-wrapped keys made before a move to a token keep
// signing until rotation retires them. There is no fallback: a token key is never replaced by a
// software key because the token is away (its slot answers 503 until it is back).
import type { Signer } from '../../core/crypto/algorithm.ts';
import { ModelsignError } from '../../core/errors.ts';
import type { PublicKey } from '../../core/keys/key.ts';
import type { KeySlot } from '../../core/keys/lifecycle.ts';
import type { Tx } from '../../db/client.ts';
import type { StoredKeyMaterial } from '../../db/key-store.ts';
import type { KekWrappedBackend } from './kek-wrapped.ts';
import type { Kek } from './kek.ts';
import type { KeyBackend, NewKey, RewrapResult } from './key-backend.ts';
import type { Pkcs11Backend } from './pkcs11/pkcs11-backend.ts';

export class RoutedBackend implements KeyBackend {
  constructor(
    private readonly kek: KekWrappedBackend | undefined,
    private readonly token: Pkcs11Backend,
    private readonly inToken: readonly KeySlot[],
  ) {}

  generate(tx: Tx, slot: KeySlot): Promise<NewKey> {
    if (this.placement(slot) === 'pkcs11') return this.token.generate(tx, slot);
    if (!this.kek) throw new ModelsignError('kek_mismatch', 'no KEK is configured for the keys MODELSIGN_PKCS11_PURPOSES leaves out of the token');
    return this.kek.generate(tx, slot);
  }

  load(kid: string, key: PublicKey, material: StoredKeyMaterial): Promise<Signer> {
    if (material.kind === 'pkcs11') return this.token.load(kid, key, material);
    if (!this.kek) throw new ModelsignError('kek_mismatch', `key ${kid} is KEK-wrapped: set MODELSIGN_KEK or MODELSIGN_KEK_FILE until it is retired (rotate it into the token)`);
    return this.kek.load(kid, key, material);
  }

  async rewrap(tx: Tx, next: Kek): Promise<RewrapResult> {
    if (!this.kek) throw new ModelsignError('kek_mismatch', 'no KEK is configured, so there is nothing to rewrap');
    return this.kek.rewrap(tx, next);
  }

  destroy(kid: string, material: StoredKeyMaterial): Promise<boolean | undefined> {
    return this.token.destroy(kid, material);
  }

  placement(slot: KeySlot): StoredKeyMaterial['kind'] {
    return this.inToken.some((s) => s.purpose === slot.purpose && s.algorithm === slot.algorithm) ? 'pkcs11' : 'kek';
  }

  available(): boolean {
    return this.token.available();
  }

  close(): Promise<void> {
    return this.token.close();
  }
}
