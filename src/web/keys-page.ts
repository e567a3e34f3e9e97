// The keys page: every key the server has had (JWKS), with purpose, algorithm, status and
// lifecycle times, and the rotation chain verified in the page from the first release key.
import type { Wire } from '../api/wire.ts';
import { KeyChainError, trustedKeysFromJwks, verifyKeyChain, type TrustedKey } from '../core/verifier.ts';
import { getJson } from './api-client.ts';
import { el, show } from './dom.ts';
import { utc } from './format.ts';

export async function keysPage(content: HTMLElement): Promise<void> {
  show(content, el('p', { role: 'status' }, 'Loading…'));
  const [jwks, chain] = await Promise.all([getJson<Wire['Jwks']>('/v1/keys'), getJson<unknown>('/v1/keys/chain')]);
  const keys = trustedKeysFromJwks(jwks) ?? [];
  // The chain is followed from the oldest release key the server lists: the key a client that
  // pinned at the start would hold. Every key reached is one such a client trusts today.
  const first = jwks.keys.filter((k) => k.purpose === 'release').sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''))[0];
  const pin = keys.find((k) => k.kid === first?.kid);
  let reached: TrustedKey[] = [];
  let chainProblem: string | undefined;
  try {
    if (!pin) throw new KeyChainError('chain_pin_unknown', 'the server lists no release key');
    reached = verifyKeyChain(chain, pin);
  } catch (err) {
    chainProblem = err instanceof Error ? err.message : String(err);
  }
  const reachedKids = new Set(reached.map((k) => k.kid));
  const unreached = jwks.keys.filter((k) => (k.purpose === 'release' || k.purpose === 'log') && !reachedKids.has(k.kid));
  show(
    content,
    el('h2', {}, 'Keys'),
    el(
      'section',
      { class: chainProblem || unreached.length > 0 ? 'check bad' : 'check ok', 'aria-label': 'Rotation chain' },
      chainProblem
        ? el('p', { role: 'alert' }, `The rotation chain does not check out in your browser: ${chainProblem}`)
        : unreached.length > 0
          ? el(
              'p',
              { role: 'alert' },
              pin?.status === 'revoked'
                ? `The first release key ${pin.kid.slice(0, 12)}… is revoked, so its chain vouches for no key it introduced after the compromise: a client that pinned it must pin a current key. Not reached: ${unreached.map((k) => k.kid.slice(0, 12)).join(', ')}.`
                : `The rotation chain from the first release key does not reach ${unreached.map((k) => k.kid.slice(0, 12)).join(', ')}.`,
            )
          : el('p', { role: 'status' }, `Rotation chain verified in your browser: from the first release key ${pin!.kid.slice(0, 12)}… to all ${reached.length} release and log keys.`),
    ),
    el(
      'table',
      { class: 'files keys' },
      el('thead', {}, el('tr', {}, ...['Key (kid)', 'Purpose', 'Algorithm', 'Status', 'Created', 'Active from', 'Retired', 'Revoked (compromised)'].map((h) => el('th', { scope: 'col' }, h)))),
      el(
        'tbody',
        {},
        ...jwks.keys.map((k) =>
          el(
            'tr',
            {},
            el('td', {}, el('code', {}, k.kid)),
            el('td', {}, k.purpose),
            el('td', {}, k.crv ?? ''),
            el('td', {}, k.status),
            el('td', {}, utc(k.createdAt)),
            el('td', {}, utc(k.activatedAt)),
            el('td', {}, utc(k.retiredAt)),
            el('td', {}, k.revokedAt ? `${utc(k.revokedAt)} (${utc(k.compromisedAt)})` : '—'),
          ),
        ),
      ),
    ),
  );
}
