// The JSON state files the monitors keep between runs (`log monitor`, `log monitor --tiles`): read
// (absent on a first run), checked by the caller's test of its layout, and written whole, 0600.
import { readFile } from 'node:fs/promises';
import { CliFailure, EXIT } from './exit-codes.ts';
import { writeFileAtomic } from './files.ts';

/** The state in `file`, undefined when there is none yet; exit 4 when it cannot be read or `isState` refuses it. */
export async function readStateFile<T>(file: string, what: string, isState: (value: T) => boolean): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliFailure(EXIT.io, `cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const state = JSON.parse(text) as T;
    if (!isState(state)) throw new Error('unknown layout');
    return state;
  } catch (err) {
    throw new CliFailure(EXIT.io, `${file} is not ${what} (${(err as Error).message}); move it away to start over`);
  }
}

export async function writeStateFile(file: string, state: unknown): Promise<void> {
  try {
    await writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n', 0o600);
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot write ${file}: ${(err as Error).message}`);
  }
}
