// Why an instance could not start, in the terms a command reports: a configuration problem the
// operator fixes (a variable, the KEK), or a database that cannot serve this process now.
import { ConfigError } from '../config.ts';
import { DataDirLockedError } from '../db/data-dir-lock.ts';
import { isConnectionError } from '../db/errors.ts';
import { MigrationError } from '../db/migrate.ts';
import { KekError } from '../services/key-backends/kek.ts';
import { KeyBackendError } from '../services/key-backends/key-backend.ts';
import { LogOriginError } from '../services/log-origin.ts';

export function startupFailure(err: unknown): { kind: 'configuration' | 'database'; message: string } | undefined {
  if (err instanceof ConfigError || err instanceof KekError || err instanceof KeyBackendError || err instanceof LogOriginError) return { kind: 'configuration', message: err.message };
  if (err instanceof DataDirLockedError || err instanceof MigrationError) return { kind: 'database', message: err.message };
  if (isConnectionError(err)) return { kind: 'database', message: `the database is unreachable: ${err instanceof Error ? err.message : String(err)}` };
  return undefined;
}

export { DataDirLockedError };
