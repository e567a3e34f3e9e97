// IssuerKeys, the JWKS cache of one OIDC issuer: fetched again only for an unknown kid and at
// most once per cooldown, new keys picked up, and the last good keys kept through failed or
// empty answers. A fake fetch and clock stand in for the issuer.
// Runs once: no database.
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { ModelsignError } from '../../src/core/errors.ts';
import { IssuerKeys, type Fetch } from '../../src/services/oidc-keys.ts';

async function jwk(kid: string) {
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'RS256' };
}

describe('IssuerKeys', () => {
  it('fetches for an unknown kid at most once per cooldown, picks up rotated keys, and keeps the last good keys', async () => {
    let now = 0;
    let answer: () => Response = () => new Response('{}');
    let fetches = 0;
    const fetcher: Fetch = async () => {
      fetches++;
      return answer();
    };
    const keys = new IssuerKeys('https://issuer.example/jwks', { cooldownMs: 60_000, fetch: fetcher, now: () => now });
    const [a, b] = [await jwk('a'), await jwk('b')];
    answer = () => Response.json({ keys: [a] });
    await keys.forKid('a');
    assert.equal(fetches, 1);
    await keys.forKid('a');
    assert.equal(fetches, 1, 'a known kid is served from the cache');

    // Made-up kids: one fetch, then none until the cooldown has passed.
    const refused = (kid: string) => assert.rejects(keys.forKid(kid), (err: unknown) => err instanceof ModelsignError && err.code === 'oidc_token_invalid');
    await refused('x1');
    await refused('x2');
    await refused('x3');
    assert.equal(fetches, 2);

    // The issuer rotates: after the cooldown, the new kid is fetched and accepted.
    answer = () => Response.json({ keys: [a, b] });
    now += 60_000;
    await keys.forKid('b');
    assert.equal(fetches, 3);

    // The issuer breaks (an error, then an empty set): known keys keep working.
    answer = () => new Response('oops', { status: 500 });
    now += 61 * 60_000;
    await keys.forKid('a');
    answer = () => Response.json({ keys: [] });
    now += 61 * 60_000;
    await keys.forKid('b');
    assert.equal(fetches, 5);
  });

  it('answers oidc_keys_unavailable when no key was ever fetched', async () => {
    const keys = new IssuerKeys('https://issuer.example/jwks', { cooldownMs: 60_000, now: () => 0, fetch: async () => new Response('down', { status: 503 }) });
    await assert.rejects(keys.forKid('a'), (err: unknown) => err instanceof ModelsignError && err.code === 'oidc_keys_unavailable');
  });
});
