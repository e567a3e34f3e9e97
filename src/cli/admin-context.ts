// What every admin command shares: who it acts as in the audit trail, its logger (warnings and
// errors to stderr, so stdout stays the command's output), and the instance it runs against the
// database: a short-lived one, opened and closed per command, with startup failures turned into
// one line and an exit code; or one the caller holds open across commands (`withHeldRuntime`:
// the suite runs admin commands this way, with no process and no database start per command).
import { AsyncLocalStorage } from 'node:async_hooks';
import os from 'node:os';
import { createLogger } from '../app/logger.ts';
import { openRuntime, type Runtime } from '../app/runtime.ts';
import { DataDirLockedError, startupFailure } from '../app/startup-errors.ts';
import { loadConfig, type Config } from '../config.ts';
import { isModelsignError } from '../core/errors.ts';
import { CliFailure, EXIT, exitCodeOf } from './exit-codes.ts';
import { output } from './output.ts';

const held = new AsyncLocalStorage<Runtime>();

/** Runs `fn` with admin commands using `runtime` (never closing it) instead of opening their own. */
export function withHeldRuntime<T>(runtime: Runtime, fn: () => Promise<T>): Promise<T> {
  return held.run(runtime, fn);
}

/** The runtime the caller holds for admin commands, if any. */
export function heldRuntime(): Runtime | undefined {
  return held.getStore();
}

/** How the audit trail names whoever runs an admin command. */
export function cliActor(): string {
  return `cli:${os.userInfo().username}`;
}

export function adminLogger(config: Config) {
  return createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr as never);
}

/** A failure of an admin command as the CliFailure it reports, when it is one a user can act on. */
export function adminFailure(err: unknown): CliFailure | undefined {
  if (err instanceof CliFailure) return err;
  const startup = startupFailure(err);
  if (startup) return new CliFailure(startup.kind === 'configuration' ? EXIT.usage : EXIT.service, startup.message);
  if (isModelsignError(err)) return new CliFailure(exitCodeOf(err.code), err.message);
  return undefined;
}

/** Runs `fn` on the held runtime, or on a short-lived instance opened on the configured database. */
export async function withAdminRuntime<T>(command: string, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const holding = heldRuntime();
  const runtime = holding ?? (await openShortLived(command));
  try {
    return await fn(runtime);
  } catch (err) {
    throw adminFailure(err) ?? err;
  } finally {
    if (!holding) await runtime.close();
  }
}

async function openShortLived(command: string): Promise<Runtime> {
  const config = loadConfig();
  try {
    return await openRuntime(config, adminLogger(config));
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      throw new CliFailure(EXIT.service, `${err.message}; stop it to run \`modelsign admin ${command}\` on the embedded database, or use the HTTP API with an admin token`);
    }
    throw adminFailure(err) ?? err;
  }
}

export function print(json: boolean, value: unknown, text: string): void {
  output().out(json ? JSON.stringify(value) + '\n' : text + '\n');
}
