// `modelsign admin publisher list|create|disable|enable|namespaces`.
import type { PublisherView } from '../services/publishers.ts';
import { cliActor, print, withAdminRuntime } from './admin-context.ts';
import { EXIT } from './exit-codes.ts';
import { parse, UsageError } from './args.ts';

const USAGE = `Usage: modelsign admin publisher list [--json]
       modelsign admin publisher create NAME NAMESPACE... [--json]
       modelsign admin publisher disable|enable NAME_OR_ID [--json]
       modelsign admin publisher namespaces NAME_OR_ID NAMESPACE... [--json]

A disabled publisher's tokens are refused (by running instances within one state poll).
\`namespaces\` replaces the publisher's namespaces.`;

const line = (p: PublisherView) => `${p.name}  ${p.id}  ${p.namespaces.join(',')}${p.disabledAt ? `  disabled ${p.disabledAt.toISOString()}` : ''}`;

export async function adminPublisher(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean', default: false } }, USAGE);
  const [action, name, ...rest] = positionals;
  const actor = cliActor();
  const json = values.json!;
  return withAdminRuntime('publisher', async ({ services }) => {
    if (action === 'list') {
      const items = await services.publishers.list();
      print(json, { items }, items.map(line).join('\n'));
      return EXIT.ok;
    }
    if (!name) throw new UsageError(USAGE);
    let publisher: PublisherView;
    if (action === 'create' && rest.length > 0) publisher = await services.publishers.create({ name, namespaces: rest }, actor);
    else if (action === 'disable' || action === 'enable') publisher = await services.publishers.update(name, { disabled: action === 'disable' }, actor);
    else if (action === 'namespaces' && rest.length > 0) publisher = await services.publishers.update(name, { namespaces: rest }, actor);
    else throw new UsageError(USAGE);
    print(json, publisher, line(publisher));
    return EXIT.ok;
  });
}
