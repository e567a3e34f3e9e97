// `modelsign admin rewrap`: re-encrypts every private key under a new KEK, in one transaction.
import { readFileSync } from 'node:fs';
import { parseKek, type Kek } from '../services/key-backends/kek.ts';
import { adminFailure, cliActor, print, withAdminRuntime } from './admin-context.ts';
import { parse, UsageError } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';

const USAGE = `Usage: modelsign admin rewrap --new-kek-file FILE [--json]

Re-encrypts every private key under the KEK in FILE (32 bytes, base64 or hex), reading them with
the current KEK (MODELSIGN_KEK or MODELSIGN_KEK_FILE). Running instances keep signing with the
keys they hold; restart them with the new KEK before the next key change (a rotation by an
instance still on the old KEK is refused with kek_mismatch).`;

export async function adminRewrap(args: string[]): Promise<number> {
  const { values } = parse(args, { 'new-kek-file': { type: 'string' }, json: { type: 'boolean', default: false } }, USAGE);
  const file = values['new-kek-file'];
  if (!file) throw new UsageError(`--new-kek-file is required\n\n${USAGE}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot read ${file}: ${(err as Error).message}`);
  }
  let next: Kek;
  try {
    next = parseKek(text, file);
  } catch (err) {
    throw adminFailure(err) ?? err;
  }
  return withAdminRuntime('rewrap', async ({ services }) => {
    const count = await services.keys.rewrap(next, cliActor());
    print(values.json!, { rewrapped: count, kekId: next.id }, `re-encrypted ${count} private keys under KEK ${next.id}; restart every instance with the new KEK`);
    return EXIT.ok;
  });
}
