// The admin commands other than `admin token` act on the database directly, as one short-lived
// instance. On the embedded database a running service holds the data folder, so they ask the
// operator to stop it (or to use the HTTP API with an admin token, which does the same).
import { loadConfig } from '../config.ts';
import { DataDirLockedError } from '../db/data-dir-lock.ts';
import { createLogger } from '../server/logger.ts';
import { UsageError } from './args.ts';
import { openRuntime, type Runtime } from './runtime.ts';

export async function withAdminRuntime<T>(command: string, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr as never);
  let runtime: Runtime;
  try {
    runtime = await openRuntime(config, logger);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      throw new UsageError(`${err.message}; stop it to run \`modelsign admin ${command}\` on the embedded database, or use the HTTP API with an admin token`, 1);
    }
    throw err;
  }
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

export function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : text + '\n');
}
