// The key backend an instance runs with, from its configuration: KEK-wrapped keys (the default),
// or a PKCS#11 token for the slots MODELSIGN_PKCS11_PURPOSES names with the KEK for the rest and
// for keys made before the move. The token's outages are logged here, once as each starts and
// ends; signing answers 503 key_backend_unavailable meanwhile.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { KEY_SLOTS, slotName, type KeySlot } from '../core/keys/lifecycle.ts';
import { KekWrappedBackend } from '../services/key-backends/kek-wrapped.ts';
import { loadKek } from '../services/key-backends/kek.ts';
import type { KeyBackend } from '../services/key-backends/key-backend.ts';
import type { Pkcs11Module } from '../services/key-backends/pkcs11/binding.ts';
import { RoutedBackend } from '../services/key-backends/routed.ts';

export interface BackendOptions {
  /** Tests: wraps the PKCS#11 module (fault injection). */
  wrapModule?: (module: Pkcs11Module) => Pkcs11Module;
  /**
   * The slots this process keeps keys in (the service's, or a witness's): only those of them
   * MODELSIGN_PKCS11_PURPOSES puts in the token are made there and have their mechanisms checked.
   */
  slots?: readonly KeySlot[];
}

export async function openKeyBackend(config: Config, logger: Logger, options: BackendOptions = {}): Promise<KeyBackend> {
  const embedded = config.databaseUrl === undefined;
  const hasKek = config.kek !== undefined || config.kekFile !== undefined || embedded;
  const kek = hasKek ? new KekWrappedBackend(loadKek({ kek: config.kek, kekFile: config.kekFile, dataDir: embedded ? config.dataDir : undefined }, (m) => logger.warn(m))) : undefined;
  if (config.keyBackend === 'kek') return kek!;
  const used = options.slots ?? KEY_SLOTS;
  const pkcs11 = { ...config.pkcs11!, slots: config.pkcs11!.slots.filter((s) => used.some((u) => u.purpose === s.purpose && u.algorithm === s.algorithm)) };
  // Imported here only: the default backend never loads koffi.
  const { Pkcs11Backend } = await import('../services/key-backends/pkcs11/pkcs11-backend.ts');
  const token = await Pkcs11Backend.open(
    { label: pkcs11.token, serial: pkcs11.serial, manufacturer: pkcs11.manufacturer, modulePath: pkcs11.modulePath, pinFile: pkcs11.pinFile, slots: pkcs11.slots, sessions: pkcs11.sessions, wrapModule: options.wrapModule },
    {
      lost: (reason) => logger.error({ tokenLabel: pkcs11.token, reason }, 'the PKCS#11 token cannot sign: signing answers 503 key_backend_unavailable until it is back (lookups and verification go on)'),
      recovered: () => logger.warn({ tokenLabel: pkcs11.token }, 'the PKCS#11 token signs again'),
      threaded: (ms) => logger.info({ tokenLabel: pkcs11.token }, `PKCS#11 signatures take over ${ms} ms: they run on worker threads from now on`),
    },
  );
  logger.info({ tokenLabel: pkcs11.token, module: pkcs11.modulePath, slots: pkcs11.slots.map(slotName) }, 'new keys of these slots are made in the PKCS#11 token');
  return new RoutedBackend(kek, token, pkcs11.slots);
}
