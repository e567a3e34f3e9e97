// Running one command: finding it, and turning every failure into one line on stderr and an exit
// code from the one table (exit-codes.ts), never a stack trace. Shared by the full command
// (main.ts) and the prebuilt client commands (client-main.ts), so it imports nothing heavy.
import { clientEnv, ConfigError } from '../config.ts';
import { isModelsignError } from '../core/errors.ts';
import { UsageError } from './args.ts';
import { CliFailure, EXIT, exitCodeOf } from './exit-codes.ts';
import { output } from './output.ts';

export type Command = (args: string[]) => Promise<number>;
export type Commands = Record<string, () => Promise<Command>>;

export async function dispatch(argv: string[], commands: Commands, usage: string): Promise<number> {
  const [first, second, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    output().out(usage + '\n');
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  const twoWord = second !== undefined ? commands[`${first} ${second}`] : undefined;
  const load = twoWord ?? commands[first];
  if (!load) {
    output().err(`modelsign: unknown command ${JSON.stringify([first, second].filter(Boolean).join(' '))}\n\n${usage}\n`);
    return EXIT.usage;
  }
  const args = twoWord ? rest : argv.slice(1);
  try {
    return await (await load())(args);
  } catch (err) {
    if (err instanceof CliFailure) {
      output().err(`modelsign: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof UsageError) {
      if (err.exitCode === 0) output().out(err.message + '\n');
      else output().err(`modelsign: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
      output().err(`modelsign: ${err.message}\n`);
      return EXIT.usage;
    }
    if (isModelsignError(err)) {
      output().err(`modelsign: ${err.message}\n`);
      return exitCodeOf(err.code);
    }
    // Never a stack trace for the user: one line, and the code for "internal error", distinct
    // from every outcome a command reports.
    output().err(`modelsign: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (clientEnv().debug) console.error(err);
    return EXIT.internal;
  }
}
