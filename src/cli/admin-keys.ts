// `modelsign admin keys list|rotate|revoke`: the key lifecycle from the command line.
import { jwkOf } from '../api/keys.ts';
import { ALGORITHM_NAMES, algorithmNamed, algorithmOf } from '../core/crypto/registry.ts';
import { isKeyPurpose, KEY_PURPOSES, type KeyRecord } from '../core/keys/key.ts';
import { cliActor, print, withAdminRuntime } from './admin-context.ts';
import { EXIT } from './exit-codes.ts';
import { parse, UsageError } from './args.ts';

const USAGE = `Usage: modelsign admin keys list [--json]
       modelsign admin keys rotate release|log|token [--algorithm ed25519|ecdsa-p256] [--expected-active KID] [--json]
       modelsign admin keys revoke KID --compromised-at RFC3339_TIME --reason TEXT [--json]

rotate makes a new key active and retires the active one (a pending key is activated first).
Release keys rotate per algorithm: --algorithm, else that of --expected-active, else ed25519.
revoke keeps valid only the signatures the transparency log proves were made before
--compromised-at; revoking the active key activates a replacement at once.`;

const line = (k: KeyRecord) => `${k.kid}  ${k.purpose.padEnd(7)}  ${algorithmOf(k.algorithm).name.padEnd(10)}  ${k.status.padEnd(7)}  created ${k.createdAt.toISOString()}${k.compromisedAt ? `  compromised ${k.compromisedAt.toISOString()}` : ''}`;

export async function adminKeys(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { json: { type: 'boolean', default: false }, 'expected-active': { type: 'string' }, algorithm: { type: 'string' }, 'compromised-at': { type: 'string' }, reason: { type: 'string' } },
    USAGE,
  );
  const [action, target] = positionals;
  const actor = cliActor();
  if (action === 'list') {
    return withAdminRuntime('keys', async ({ services }) => {
      const keys = services.keys.list();
      print(values.json!, { keys: keys.map(jwkOf) }, keys.map(line).join('\n'));
      return EXIT.ok;
    });
  }
  if (action === 'rotate') {
    if (!isKeyPurpose(target)) throw new UsageError(`rotate needs a purpose: ${KEY_PURPOSES.join(', ')}\n\n${USAGE}`);
    const algorithm = values.algorithm === undefined ? undefined : algorithmNamed(values.algorithm);
    if (values.algorithm !== undefined && !algorithm) throw new UsageError(`--algorithm must be one of ${ALGORITHM_NAMES.join(', ')}\n\n${USAGE}`);
    return withAdminRuntime('keys', async ({ services }) => {
      const r = await services.keys.rotate(target, actor, { expectedActive: values['expected-active'], algorithm: algorithm?.id });
      print(values.json!, { previous: jwkOf(r.previous), active: jwkOf(r.active) }, `rotated ${target}: ${r.previous.kid} retired, ${r.active.kid} active`);
      return EXIT.ok;
    });
  }
  if (action === 'revoke') {
    const at = values['compromised-at'] ? new Date(values['compromised-at']) : undefined;
    if (!target || !at || Number.isNaN(at.getTime()) || !values.reason) throw new UsageError(`revoke needs KID, --compromised-at (an RFC 3339 time) and --reason\n\n${USAGE}`);
    return withAdminRuntime('keys', async ({ services }) => {
      const r = await services.keys.revoke(target, { compromisedAt: at, reason: values.reason! }, actor);
      print(
        values.json!,
        { revoked: jwkOf(r.revoked), replacement: r.replacement ? jwkOf(r.replacement) : null },
        `revoked ${r.revoked.kid} as of ${at.toISOString()}${r.replacement ? `; ${r.replacement.kid} is now the active ${r.replacement.purpose} key` : ''}`,
      );
      return EXIT.ok;
    });
  }
  throw new UsageError(USAGE);
}
