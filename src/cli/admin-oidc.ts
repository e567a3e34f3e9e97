// `modelsign admin oidc-issuer ...` and `modelsign admin trusted-publisher ...`: trusted publishing
// set up where the database is reachable (the same services as the HTTP admin routes).
import { readFile } from 'node:fs/promises';
import { isIssuerKind } from '../core/oidc/rules.ts';
import { issuerView, trustedPublisherView } from '../api/trusted-publishing.ts';
import type { Wire } from '../api/wire.ts';
import { cliActor, print, withAdminRuntime } from './admin-context.ts';
import { parse, UsageError } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';

const ISSUER_USAGE = `Usage: modelsign admin oidc-issuer list [--json]
       modelsign admin oidc-issuer add URL github|gitlab|generic [--max-token-age 15m] [--algorithm RS256]... [--json]
       modelsign admin oidc-issuer remove ID_OR_URL

\`add\` fetches URL/.well-known/openid-configuration now; its issuer must be URL exactly. GitHub
Actions is https://token.actions.githubusercontent.com, GitLab.com is https://gitlab.com.`;

const RULE_USAGE = `Usage: modelsign admin trusted-publisher list PUBLISHER [--json]
       modelsign admin trusted-publisher add PUBLISHER --issuer URL --namespace NS... --rule FILE|JSON [--public-repository] [--json]
       modelsign admin trusted-publisher remove PUBLISHER RULE_ID

--rule is the rule for the issuer's kind, as JSON or a file holding it, e.g. for GitHub:
  {"repository": "acme-org/llama-ft", "repositoryOwnerId": "65", "workflow": "release.yml",
   "environment": "release", "refs": ["refs/tags/v*"]}
for GitLab: {"projectPath": "acme-group/sd-models", "ciConfigPath": ".gitlab-ci.yml"}
for others: {"conditions": [{"claim": "email", "op": "equals", "value": "ci@acme.example"}]}
Ids left out (repositoryId; namespaceId, projectId) are pinned by the first exchange. Removing a
rule refuses the tokens minted under it at once.`;

const issuerLine = (i: Wire['OidcIssuer']) => `${i.url}  ${i.kind}  ${i.id}  max age ${i.maxTokenAgeSeconds} s  ${i.algorithms.join(',')}`;
const ruleLine = (r: Wire['TrustedPublisher']) => `${r.id}  ${r.kind}  ${r.issuer}  ${r.namespaces.join(',')}  ${JSON.stringify(r.rule)}`;

export async function adminOidcIssuer(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean', default: false }, 'max-token-age': { type: 'string' }, algorithm: { type: 'string', multiple: true } }, ISSUER_USAGE);
  const [action, first, second] = positionals;
  const json = values.json!;
  return withAdminRuntime('oidc-issuer', async ({ services }) => {
    if (action === 'list') {
      const items = (await services.trustedPublishers.listIssuers()).map(issuerView);
      print(json, { items }, items.map(issuerLine).join('\n'));
    } else if (action === 'add' && first && isIssuerKind(second)) {
      const issuer = issuerView(await services.trustedPublishers.addIssuer({ url: first, kind: second, maxTokenAge: values['max-token-age'], algorithms: values.algorithm }, cliActor()));
      print(json, issuer, issuerLine(issuer));
    } else if (action === 'remove' && first) {
      await services.trustedPublishers.removeIssuer(first, cliActor());
      print(json, { removed: first }, `removed ${first}`);
    } else {
      throw new UsageError(ISSUER_USAGE);
    }
    return EXIT.ok;
  });
}

async function ruleOf(text: string): Promise<unknown> {
  const source = text.trimStart().startsWith('{') ? text : await readFile(text, 'utf8').catch((err: Error) => {
    throw new CliFailure(EXIT.io, `cannot read ${text}: ${err.message}`);
  });
  try {
    return JSON.parse(source) as unknown;
  } catch {
    throw new CliFailure(EXIT.usage, '--rule must be a JSON object (or a file holding one)');
  }
}

export async function adminTrustedPublisher(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { json: { type: 'boolean', default: false }, issuer: { type: 'string' }, namespace: { type: 'string', multiple: true }, rule: { type: 'string' }, 'public-repository': { type: 'boolean', default: false } },
    RULE_USAGE,
  );
  const [action, publisher, ruleId] = positionals;
  const json = values.json!;
  if (!publisher) throw new UsageError(RULE_USAGE);
  return withAdminRuntime('trusted-publisher', async ({ services }) => {
    const tp = services.trustedPublishers;
    if (action === 'list') {
      const items = (await tp.listRules(publisher)).map(trustedPublisherView);
      print(json, { items }, items.map(ruleLine).join('\n'));
    } else if (action === 'add' && values.issuer && values.namespace?.length && values.rule) {
      const issuer = (await tp.listIssuers()).find((i) => i.url === values.issuer || i.id === values.issuer);
      const kind = issuer?.kind ?? 'github';
      const rule = trustedPublisherView(await tp.addRule(publisher, { issuer: values.issuer, namespaces: values.namespace, publicRepository: values['public-repository'], [kind]: await ruleOf(values.rule) }, cliActor()));
      print(json, rule, ruleLine(rule));
    } else if (action === 'remove' && ruleId) {
      await tp.removeRule(publisher, ruleId, cliActor());
      print(json, { removed: ruleId }, `removed ${ruleId}; tokens minted under it are refused from now on`);
    } else {
      throw new UsageError(RULE_USAGE);
    }
    return EXIT.ok;
  });
}
