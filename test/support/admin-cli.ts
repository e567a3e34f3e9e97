// Admin commands run in this process against one runtime held open across them, as `modelsign
// admin ...` would run them but without a process, a tsx start, a database open and migration and
// a services start per command (the largest cost of the suite when each was a process). The
// runtime is opened from the environment the commands would see (the same `loadConfig`), again
// only when that environment changes, and closed by `close()` (also to let a test open the
// embedded database itself). End-to-end process tests of the same commands remain
// (test/cli/admin.test.ts's rewrap, test/cli/serve.test.ts).
import { openRuntime, type Runtime } from '../../src/app/runtime.ts';
import { adminLogger, withHeldRuntime } from '../../src/cli/admin-context.ts';
import { COMMANDS, USAGE } from '../../src/cli/commands.ts';
import { dispatch } from '../../src/cli/dispatch.ts';
import { withOutput } from '../../src/cli/output.ts';
import { loadConfig } from '../../src/config.ts';

export interface AdminResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface AdminCli {
  /** Runs `modelsign ARGS` with the base environment plus `extra`. */
  run(args: string[], extra?: Record<string, string>): Promise<AdminResult>;
  /** Closes the held runtime; the next command opens one again. */
  close(): Promise<void>;
}

export function adminCli(base: () => Record<string, string>): AdminCli {
  let held: { runtime: Runtime; key: string } | undefined;
  const close = async () => {
    const closing = held;
    held = undefined;
    await closing?.runtime.close();
  };
  return {
    close,
    async run(args, extra = {}) {
      const env = { LOG_LEVEL: 'warn', ...base(), ...extra };
      const key = JSON.stringify(Object.entries(env).sort());
      if (held?.key !== key) {
        await close();
        const config = loadConfig({ ...process.env, ...env });
        try {
          held = { runtime: await openRuntime(config, adminLogger(config)), key };
        } catch {
          // A runtime that cannot open (a wrong KEK, say): let the command open it and report why.
          held = undefined;
        }
      }
      let stdout = '';
      let stderr = '';
      const collect = { out: (text: string) => void (stdout += text), err: (text: string) => void (stderr += text) };
      const run = () => dispatch(args, COMMANDS, USAGE);
      const status = await withOutput(collect, () => (held ? withHeldRuntime(held.runtime, run) : withEnv(env, run)));
      return { status, stdout, stderr };
    },
  };
}

/** Runs `fn` with `env` in process.env (the commands read it through loadConfig), then restores it. */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
