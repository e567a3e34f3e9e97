// The `modelsign` command: dispatches to one file per command under cli/.
import { ConfigError } from './config.ts';
import { isModelsignError } from './core/errors.ts';
import { DataDirLockedError } from './db/data-dir-lock.ts';
import { MigrationError } from './db/migrate.ts';
import { UsageError } from './cli/args.ts';
import { CliFailure } from './cli/exit-codes.ts';
import { KekError } from './services/key-wrap.ts';

const USAGE = `Usage: modelsign <command> [options]

Commands:
  serve                   run the HTTP service
  admin token             issue a token (the first admin token comes from here)
  admin keys              list, rotate and revoke keys
  admin publisher         list, create, disable, enable publishers; change namespaces
  admin rewrap            re-encrypt every private key under a new KEK
  admin audit-verify      check the audit trail's hash chain
  log monitor             check that the transparency log only grows (for cron)
  hash PATH               the manifest (file SHA-256s, root digest) of a model folder or file
  sign PATH               have the service sign a model; writes the bundle next to it
  verify PATH             check a model against its bundle before loading it
  audit DIR...            check every model under folders (for cron)

Run \`modelsign <command> --help\` for a command's options.`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./cli/serve.ts')).serve,
  'admin token': async () => (await import('./cli/admin-token.ts')).adminToken,
  'admin keys': async () => (await import('./cli/admin-keys.ts')).adminKeys,
  'admin publisher': async () => (await import('./cli/admin-publisher.ts')).adminPublisher,
  'admin rewrap': async () => (await import('./cli/admin-rewrap.ts')).adminRewrap,
  'admin audit-verify': async () => (await import('./cli/admin-audit-verify.ts')).adminAuditVerify,
  hash: async () => (await import('./cli/hash.ts')).hash,
  sign: async () => (await import('./cli/sign.ts')).sign,
  verify: async () => (await import('./cli/verify.ts')).verify,
  audit: async () => (await import('./cli/audit.ts')).audit,
  'log monitor': async () => (await import('./cli/log-monitor.ts')).logMonitor,
};

export async function main(argv: string[]): Promise<number> {
  const [first, second, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(USAGE + '\n');
    return first === undefined ? 2 : 0;
  }
  const twoWord = second !== undefined ? COMMANDS[`${first} ${second}`] : undefined;
  const load = twoWord ?? COMMANDS[first];
  if (!load) {
    process.stderr.write(`modelsign: unknown command ${JSON.stringify([first, second].filter(Boolean).join(' '))}\n\n${USAGE}\n`);
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
    if (process.env.MODELSIGN_DEBUG) console.error(err);
    return 70;
  }
}

process.exitCode = await main(process.argv.slice(2));
