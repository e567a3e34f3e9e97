// Where a command's output goes: this process's stdout and stderr, unless the caller runs the
// command inside `withOutput` (an admin command run in the process that holds the runtime, such
// as the test suite's in-process runner, test/support/admin-cli.ts) and collects it.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const STANDARD: Output = { out: (text) => void process.stdout.write(text), err: (text) => void process.stderr.write(text) };
const current = new AsyncLocalStorage<Output>();

export function output(): Output {
  return current.getStore() ?? STANDARD;
}

export function withOutput<T>(to: Output, fn: () => Promise<T>): Promise<T> {
  return current.run(to, fn);
}
