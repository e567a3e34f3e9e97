// Which keys the verify page trusts: this server's key set (GET /v1/keys) by default, or what the
// user pastes: a pinned release key (PEM or JWK), followed along the server's rotation chain and
// checked link by link in the page, or a saved key set (JWKS). Kept in memory for the page's life.
import { keyIdOf, KeyChainError, parseJwk, parseSpkiPem, trustedKeysFromJwks, verifyKeyChain, type TrustedKey } from '../core/verifier.ts';
import { getJson } from './api-client.ts';

export interface Trust {
  keys: TrustedKey[];
  /** In words, for the verdict: "this server's keys", "pinned key 3f2a… and its rotation chain". */
  source: string;
  pinned: boolean;
}

let pastedTrust: Trust | undefined;

export async function currentTrust(): Promise<Trust> {
  if (pastedTrust) return pastedTrust;
  const keys = trustedKeysFromJwks(await getJson<unknown>('/v1/keys')) ?? [];
  return { keys, source: "this server's keys (GET /v1/keys)", pinned: false };
}

export function usingPasted(): boolean {
  return pastedTrust !== undefined;
}

export function forgetPasted(): void {
  pastedTrust = undefined;
}

/** Reads pasted text as a PEM key, a JWK or a JWKS; throws with a message in words. */
export async function usePasted(text: string): Promise<Trust> {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error('Paste a public key (PEM or JWK) or a key set (JWKS) first.');
  if (trimmed.length > 1024 * 1024) throw new Error('That is over 1 MiB: not a key or a key set.');
  let json: unknown;
  if (trimmed.startsWith('{')) {
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new Error('That starts like JSON but is not valid JSON.');
    }
    const set = trustedKeysFromJwks(json);
    if (set) {
      if (set.length === 0) throw new Error('That key set holds no usable public key (each needs a kid that is its key\'s SHA-256).');
      pastedTrust = { keys: set, source: `the pasted key set (${set.length} key${set.length === 1 ? '' : 's'})`, pinned: true };
      return pastedTrust;
    }
  }
  const pinned = json === undefined ? parseSpkiPem(trimmed) : parseJwk(json);
  if (!pinned) throw new Error(json === undefined ? 'That is not a public key in PEM (-----BEGIN PUBLIC KEY-----) of Ed25519 or ECDSA P-256.' : 'That JSON is neither a key set ({"keys": [...]}) nor a public JWK of Ed25519 or ECDSA P-256 (a private JWK is refused).');
  const kid = keyIdOf(pinned);
  try {
    const keys = verifyKeyChain(await getJson<unknown>('/v1/keys/chain'), pinned);
    pastedTrust = { keys, source: `pinned key ${kid.slice(0, 16)}… and the keys its rotation chain vouches for`, pinned: true };
  } catch (err) {
    if (!(err instanceof KeyChainError)) throw err;
    if (err.code !== 'chain_pin_unknown') throw new Error(`The server's rotation chain does not check out from that key: ${err.message}`);
    // A key this server never had: trusted alone, so nothing checks the log entry.
    pastedTrust = { keys: [{ kid, ...pinned, purpose: 'release', status: 'active' }], source: `pinned key ${kid.slice(0, 16)}… alone (not one of this server's keys, so no log key is trusted)`, pinned: true };
  }
  return pastedTrust;
}
