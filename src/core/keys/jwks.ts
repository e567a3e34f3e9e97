// A key set as GET /v1/keys serves it (a JWKS whose keys carry kid, purpose, status and
// compromisedAt), read into trusted keys. A key whose kid is not its own key's id is left out:
// a kid names the exact key bytes. Shared by the CLI (--keys, --server) and the web console.
import { keyIdOf, parseJwk } from '../crypto/public-key.ts';
import { isKeyPurpose, isKeyStatus, type TrustedKey } from './key.ts';

/** The usable keys of a JWKS document, or undefined when it is not one ({"keys": [...]}). */
export function trustedKeysFromJwks(doc: unknown): TrustedKey[] | undefined {
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return undefined;
  const out: TrustedKey[] = [];
  for (const k of keys as Record<string, unknown>[]) {
    const key = k !== null && typeof k === 'object' ? parseJwk(k) : undefined;
    if (!key || typeof k.kid !== 'string' || keyIdOf(key) !== k.kid) continue;
    out.push({
      kid: k.kid,
      ...key,
      purpose: isKeyPurpose(k.purpose) ? k.purpose : 'release',
      status: isKeyStatus(k.status) ? k.status : 'active',
      compromisedAt: typeof k.compromisedAt === 'string' ? new Date(k.compromisedAt) : null,
    });
  }
  return out;
}
