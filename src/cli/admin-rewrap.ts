// `modelsign admin rewrap`: re-encrypts every KEK-held private key under a new KEK, in one
// transaction; keys held in a PKCS#11 token are counted and left alone.
import { readFileSync } from 'node:fs';
import { parseKek, type Kek } from '../services/key-backends/kek.ts';
import { adminFailure, cliActor, print, withAdminRuntime } from './admin-context.ts';
import { parse, UsageError } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';

const USAGE = `Usage: modelsign admin rewrap --new-kek-file FILE [--json]

Re-encrypts every KEK-held private key under the KEK in FILE (32 bytes, base64 or hex; keys held
in a PKCS#11 token are counted as skipped), reading them with
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
    const { keys, skipped } = await services.keys.rewrap(next, cliActor());
    const held = skipped > 0 ? `; skipped ${skipped} held in the PKCS#11 token` : '';
    print(values.json!, { rewrapped: keys, skipped, kekId: next.id }, `re-encrypted ${keys} private keys under KEK ${next.id}${held}; restart every instance with the new KEK`);
    return EXIT.ok;
  });
}
