// Running one command: finding it, and turning every failure into one line on stderr and an exit
// code (never a stack trace). Shared by the full command (main.ts) and the prebuilt client
// commands (client-main.ts).
import { clientEnv, ConfigError } from '../config.ts';
import { isModelsignError } from '../core/errors.ts';
import { DataDirLockedError } from '../db/data-dir-lock.ts';
import { MigrationError } from '../db/migrate.ts';
import { KekError } from '../services/key-wrap.ts';
import { UsageError } from './args.ts';
import { CliFailure } from './exit-codes.ts';

export type Command = (args: string[]) => Promise<number>;
export type Commands = Record<string, () => Promise<Command>>;

export async function dispatch(argv: string[], commands: Commands, usage: string): Promise<number> {
  const [first, second, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(usage + '\n');
    return first === undefined ? 2 : 0;
  }
  const twoWord = second !== undefined ? commands[`${first} ${second}`] : undefined;
  const load = twoWord ?? commands[first];
  if (!load) {
    process.stderr.write(`modelsign: unknown command ${JSON.stringify([first, second].filter(Boolean).join(' '))}\n\n${usage}\n`);
    return 2;
  }
  const args = twoWord ? rest : argv.slice(1);
  try {
    return await (await load())(args);
  } catch (err) {
    if (err instanceof CliFailure) {
      process.stderr.write(`modelsign: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof UsageError) {
      if (err.exitCode === 0) process.stdout.write(err.message + '\n');
      else process.stderr.write(`modelsign: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ConfigError || err instanceof KekError || err instanceof DataDirLockedError || err instanceof MigrationError || isModelsignError(err)) {
      process.stderr.write(`modelsign: ${err.message}\n`);
      return 1;
    }
    // Never a stack trace for the user: one line, and the code for "internal error" (sysexits
    // EX_SOFTWARE), distinct from every outcome a command reports.
    process.stderr.write(`modelsign: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (clientEnv().debug) console.error(err);
    return 70;
  }
}

