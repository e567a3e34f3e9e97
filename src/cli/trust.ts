// Which keys a client verification trusts, from the command line:
// --key PEM         a pinned release key (with --chain FILE or --server, followed along the
//                   rotation chain to the current keys, log key included);
// --keys JWKS       a saved key set (GET /v1/keys), statuses included;
// --server URL      the service's current key set.
// A --log-key PEM may be added to any of them. Without a log key the log entry cannot be
// checked, and the report says so.
import { readFile } from 'node:fs/promises';
import { clientEnv } from '../config.ts';
import { keyIdOf, parseSpkiPem } from '../core/crypto/public-key.ts';
import { trustedKeysFromJwks } from '../core/keys/jwks.ts';
import { KeyChainError, verifyKeyChain } from '../core/keys/key-chain.ts';
import { keySet } from '../core/keys/key-set.ts';
import type { PublicKey, TrustedKey } from '../core/keys/key.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { fetchJson } from './http.ts';

export interface Trust {
  resolveKey(kid: string): TrustedKey | undefined;
  logKeys(): Iterable<TrustedKey>;
  /** Whether a log key is trusted, so log entries can be (and must be) checked. */
  hasLogKey: boolean;
  source: string;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

async function pem(file: string, what: string): Promise<PublicKey> {
  const key = parseSpkiPem(await readText(file, what));
  if (!key) throw new CliFailure(EXIT.usage, `${file} is not a public key in PEM (SPKI) of a known algorithm`);
  return key;
}

function fromJwks(doc: unknown, source: string): TrustedKey[] {
  const keys = trustedKeysFromJwks(doc);
  if (!keys) throw new CliFailure(EXIT.usage, `${source} is not a JWKS ({"keys": [...]})`);
  if (keys.length === 0) throw new CliFailure(EXIT.usage, `${source} holds no usable public key`);
  return keys;
}

export async function loadTrust(options: { key?: string | undefined; keys?: string | undefined; server?: string | undefined; chain?: string | undefined; logKey?: string | undefined }): Promise<Trust> {
  const chosen = [options.key, options.keys].filter(Boolean).length;
  if (chosen > 1) throw new CliFailure(EXIT.usage, 'give one of --key or --keys');
  let keys: TrustedKey[];
  let source: string;
  if (options.key) {
    const pinned = await pem(options.key, 'key');
    source = `pinned key ${keyIdOf(pinned).slice(0, 12)}`;
    const chainDoc = options.chain ? parseJson(await readText(options.chain, 'chain'), options.chain) : options.server ? await fetchJson(options.server, '/v1/keys/chain') : undefined;
    if (chainDoc) {
      try {
        keys = verifyKeyChain(chainDoc, pinned);
      } catch (err) {
        if (err instanceof KeyChainError) throw new CliFailure(EXIT.untrusted, `the rotation chain from ${keyIdOf(pinned).slice(0, 12)} does not check out: ${err.message}`);
        throw err;
      }
      source += ' and its rotation chain';
    } else {
      keys = [{ kid: keyIdOf(pinned), ...pinned, purpose: 'release', status: 'active' }];
    }
  } else if (options.keys) {
    keys = fromJwks(parseJson(await readText(options.keys, 'key set'), options.keys), options.keys);
    source = options.keys;
  } else if (options.server) {
    keys = fromJwks(await fetchJson(options.server, '/v1/keys'), `${options.server}/v1/keys`);
    source = `${options.server}/v1/keys`;
  } else {
    throw new CliFailure(EXIT.usage, 'say which keys to trust: --key PEM, --keys JWKS or --server URL');
  }
  if (options.logKey) {
    const log = await pem(options.logKey, 'log key');
    keys = [...keys.filter((k) => k.kid !== keyIdOf(log)), { kid: keyIdOf(log), ...log, purpose: 'log', status: 'active' }];
  }
  return { ...keySet(keys), hasLogKey: keys.some((k) => k.purpose === 'log'), source };
}

/**
 * Trust from the shared options of `verify` and `audit` (TRUST_OPTIONS); MODELSIGN_SERVER stands
 * in for --server when neither --key nor --keys is given.
 */
export function trustFromOptions(values: { key?: string | undefined; keys?: string | undefined; server?: string | undefined; chain?: string | undefined; 'log-key'?: string | undefined }): Promise<Trust> {
  const server = values.server ?? (values.key || values.keys ? undefined : clientEnv().server);
  return loadTrust({ key: values.key, keys: values.keys, server, chain: values.chain, logKey: values['log-key'] });
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CliFailure(EXIT.usage, `${file} is not JSON`);
  }
}
