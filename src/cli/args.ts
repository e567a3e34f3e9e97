// Command-line parsing shared by every command: node:util's parseArgs in strict mode, so a
// mistyped flag is an error rather than silently ignored.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** 0 when the user asked for help, 2 for a mistake. */
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, usage: string) {
  if (args.includes('--help') || args.includes('-h')) throw new UsageError(usage, 0);
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${usage}`);
  }
}
