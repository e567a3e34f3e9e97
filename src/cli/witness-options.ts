// --witness-policy FILE and --proof FILE, shared by verify and audit. The policy is the user's
// own file, read here; --server never supplies or replaces it.
import { readFile } from 'node:fs/promises';
import { TlogError } from '../core/tlog/tlog-error.ts';
import { parseWitnessPolicy } from '../core/tlog/witness-policy.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import type { WitnessOption } from './verify-model.ts';

export async function witnessFromOptions(values: { 'witness-policy'?: string | undefined; proof?: string | undefined }): Promise<WitnessOption | undefined> {
  const file = values['witness-policy'];
  if (file === undefined) {
    if (values.proof !== undefined) throw new CliFailure(EXIT.usage, '--proof is checked against a witness policy: give --witness-policy FILE with it');
    return undefined;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot read the witness policy ${file}: ${(err as Error).message}`);
  }
  try {
    return { policy: parseWitnessPolicy(text), proof: values.proof };
  } catch (err) {
    if (err instanceof TlogError) throw new CliFailure(EXIT.usage, `${file}: ${err.message}`);
    throw err;
  }
}
