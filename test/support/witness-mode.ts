// `modelsign witness` in a test: assembled on a test database (app/witness-instance.ts, as the
// command does) and listening on a free loopback port.
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../src/app/logger.ts';
import { assembleWitness, type WitnessParts } from '../../src/app/witness-instance.ts';
import { parseVkey } from '../../src/core/tlog/vkey.ts';
import { KEY_SLOTS, WITNESS_SLOT } from '../../src/core/keys/lifecycle.ts';
import type { Clock } from '../../src/services/support/clock.ts';
import { testBackend, testKek } from './app.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface ModelsignWitness {
  url: string;
  parts: WitnessParts;
  database: TestDatabase;
  /** Stops it; the database is dropped unless the caller gave it. */
  close(): Promise<void>;
}

export async function startModelsignWitness(o: {
  name: string;
  logs: { vkey: string; url?: string }[];
  peers?: { name: string; url: string }[];
  perMinute?: number;
  database?: TestDatabase;
  kek?: ReturnType<typeof testKek>;
  clock?: Clock;
  retryMs?: number;
  /** Listen here (a witness restarted where its logs know it); default a free port. */
  port?: number;
}): Promise<ModelsignWitness> {
  const database = o.database ?? (await createTestDatabase());
  const logger = createLogger('silent');
  // In the HSM pass (MODELSIGN_TEST_KEY_BACKEND=pkcs11) the witness key is made in the SoftHSM2 token.
  const backend = await testBackend({ kek: o.kek ?? testKek(), pkcs11: { slots: [...KEY_SLOTS, WITNESS_SLOT] }, slots: [WITNESS_SLOT] }, logger);
  let parts: WitnessParts;
  try {
    parts = await assembleWitness({
      db: database.db,
      backend,
      logger,
      clock: o.clock,
      retryMs: o.retryMs ?? 100,
      mode: { name: o.name, logs: o.logs.map((l) => ({ vkey: parseVkey(l.vkey), url: l.url })), peers: o.peers ?? [], perMinute: o.perMinute ?? 0 },
    });
  } catch (err) {
    await backend.close?.();
    if (!o.database) await database.drop();
    throw err;
  }
  await parts.app.listen({ host: '127.0.0.1', port: o.port ?? 0 });
  return {
    url: `http://127.0.0.1:${(parts.app.server.address() as AddressInfo).port}`,
    parts,
    database,
    async close() {
      await parts.stop();
      await backend.close?.();
      if (!o.database) await database.drop();
    },
  };
}

/** POSTs an add-checkpoint body; the status, body and content type. */
export async function addCheckpoint(url: string, body: string | Uint8Array): Promise<{ status: number; text: string; contentType: string | null }> {
  const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
}
