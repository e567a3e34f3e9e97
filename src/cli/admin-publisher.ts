// `modelsign admin publisher list|create|disable|enable|namespaces`.
import { publisherView } from '../api/publishers.ts';
import type { Wire } from '../api/wire.ts';
import { cliActor, print, withAdminRuntime } from './admin-context.ts';
import { EXIT } from './exit-codes.ts';
import { parse, UsageError } from './args.ts';

const USAGE = `Usage: modelsign admin publisher list [--json]
       modelsign admin publisher create NAME NAMESPACE... [--json]
       modelsign admin publisher disable|enable NAME_OR_ID [--json]
       modelsign admin publisher namespaces NAME_OR_ID NAMESPACE... [--json]
       modelsign admin publisher algorithm NAME_OR_ID NAMESPACE ed25519|ecdsa-p256 [--json]

A disabled publisher's tokens are refused (by running instances within one state poll).
\`namespaces\` replaces the publisher's namespaces. \`algorithm\` sets which key signs the
namespace's next releases: ecdsa-p256 bundles also verify in model_signing, sigstore-go and cosign.`;

const line = (p: Wire['Publisher']) => `${p.name}  ${p.id}  ${p.namespaces.map((n) => `${n}:${p.signingAlgorithms[n]}`).join(',')}${p.disabledAt ? `  disabled ${p.disabledAt}` : ''}`;

export async function adminPublisher(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean', default: false } }, USAGE);
  const [action, name, ...rest] = positionals;
  const actor = cliActor();
  const json = values.json!;
  return withAdminRuntime('publisher', async ({ services }) => {
    if (action === 'list') {
      const items = (await services.publishers.list()).map(publisherView);
      print(json, { items }, items.map(line).join('\n'));
      return EXIT.ok;
    }
    if (!name) throw new UsageError(USAGE);
    let record;
    if (action === 'create' && rest.length > 0) record = await services.publishers.create({ name, namespaces: rest }, actor);
    else if (action === 'disable' || action === 'enable') record = await services.publishers.update(name, { disabled: action === 'disable' }, actor);
    else if (action === 'namespaces' && rest.length > 0) record = await services.publishers.update(name, { namespaces: rest }, actor);
    else if (action === 'algorithm' && rest.length === 2) record = await services.publishers.update(name, { signingAlgorithms: { [rest[0]!]: rest[1]! } }, actor);
    else throw new UsageError(USAGE);
    const publisher = publisherView(record);
    print(json, publisher, line(publisher));
    return EXIT.ok;
  });
}
