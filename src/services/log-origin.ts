// A log's origin (checkpoint line 1, the log key's name in signed notes, part of its Sigstore
// log ID) is fixed when the log is created and never changes: monitors compare it between runs,
// and every bundle's log ID depends on it. A new log takes the host name of the public URL,
// which sigstore-go and cosign require (they match the origin to the trusted root's baseUrl
// host); MODELSIGN_LOG_ORIGIN names it instead when set. An existing log keeps what its
// checkpoints say (the interop migration copied it), whatever the configuration.
import { claimLogOrigin, readLogOrigin } from '../db/log-store.ts';
import type { Database } from '../db/client.ts';

export class LogOriginError extends Error {
  override readonly name = 'LogOriginError';
}

export interface LogOriginSettings {
  /** MODELSIGN_LOG_ORIGIN, if set. */
  configured: string | undefined;
  publicUrl: string;
}

/** The log's origin, fixing it now for a new log; throws LogOriginError when the configuration contradicts it. */
export async function settleLogOrigin(db: Database, settings: LogOriginSettings): Promise<string> {
  const stored = await readLogOrigin(db);
  if (stored !== null) {
    if (settings.configured !== undefined && settings.configured !== stored) {
      throw new LogOriginError(
        `MODELSIGN_LOG_ORIGIN is ${JSON.stringify(settings.configured)} but this log's origin is ${JSON.stringify(stored)}, fixed when the log was created; unset it or set it to the log's origin`,
      );
    }
    return stored;
  }
  await claimLogOrigin(db, settings.configured ?? new URL(settings.publicUrl).hostname);
  return (await readLogOrigin(db))!;
}
