// Trusted publishing in the admin console: the OIDC issuers the service accepts ID tokens from,
// and each publisher's rules (which CI runs may sign for which namespaces). The rule's
// kind-specific part is entered as JSON, as POST .../trusted-publishers takes it.
import type { Wire } from '../api/wire.ts';
import { adminCall, type Session } from './admin-session.ts';
import { button, field, form, splitList, statusLine, table } from './admin-ui.ts';
import { utc } from './format.ts';
import { el, show } from './dom.ts';

export async function trustedSection(root: HTMLElement, session: Session): Promise<void> {
  const status = statusLine('trusted-status');
  const admin = session.role === 'admin';
  const url = el('input', { id: 'issuer-url', type: 'url', required: '', placeholder: 'https://token.actions.githubusercontent.com' });
  const kind = el('select', { id: 'issuer-kind' }, ...['github', 'gitlab', 'generic'].map((k) => el('option', { value: k }, k)));
  const publisherPick = el('select', { id: 'rule-publisher' });
  const rulesNode = el('div', { id: 'rules' });
  const ruleIssuer = el('input', { id: 'rule-issuer', type: 'text', required: '' });
  const ruleNamespaces = el('input', { id: 'rule-namespaces', type: 'text', required: '' });
  const ruleKind = el('select', { id: 'rule-kind' }, ...['github', 'gitlab', 'generic'].map((k) => el('option', { value: k }, k)));
  const ruleJson = el('textarea', { id: 'rule-json', rows: '4', spellcheck: 'false' });
  ruleJson.value = '{"repository": "acme/models", "workflow": "release.yml"}';
  const ruleStatus = statusLine('rules-status');

  const showRules = async () => {
    if (!publisherPick.value) return show(rulesNode, el('p', {}, 'No publisher yet.'));
    const { items } = await adminCall<Wire['TrustedPublisherList']>(session, 'GET', `/v1/admin/publishers/${publisherPick.value}/trusted-publishers`);
    show(
      rulesNode,
      table(
        ['Issuer', 'Namespaces', 'Rule', 'Created', 'Actions'],
        items.map((r) =>
          el(
            'tr',
            {},
            el('td', {}, r.issuer, ` (${r.kind})`),
            el('td', {}, r.namespaces.join(', ')),
            el('td', {}, el('code', {}, JSON.stringify(r.rule))),
            el('td', {}, utc(r.createdAt)),
            el(
              'td',
              { class: 'actions' },
              admin
                ? button(
                    'Delete',
                    () =>
                      void adminCall(session, 'DELETE', `/v1/admin/publishers/${publisherPick.value}/trusted-publishers/${r.id}`)
                        .then(showRules)
                        .then(() => ruleStatus.ok('Deleted the rule; tokens minted under it are refused from now on.'))
                        .catch(ruleStatus.fail),
                    'danger',
                  )
                : null,
            ),
          ),
        ),
        'Trusted-publisher rules',
      ),
    );
  };

  const render = async () => {
    const [{ items: issuers }, { items: publishers }] = await Promise.all([
      adminCall<Wire['OidcIssuerList']>(session, 'GET', '/v1/admin/oidc-issuers'),
      adminCall<Wire['PublisherList']>(session, 'GET', '/v1/admin/publishers'),
    ]);
    const chosen = publisherPick.value;
    show(publisherPick, ...publishers.map((p) => el('option', { value: p.id }, p.name)));
    if (chosen) publisherPick.value = chosen;
    show(
      root,
      el('h2', {}, 'Trusted publishing'),
      status.node,
      el('h3', {}, 'OIDC issuers'),
      table(
        ['Issuer', 'Kind', 'Algorithms', 'Max token age', 'Actions'],
        issuers.map((i) =>
          el(
            'tr',
            {},
            el('td', {}, i.url),
            el('td', {}, i.kind),
            el('td', {}, i.algorithms.join(', ')),
            el('td', {}, `${i.maxTokenAgeSeconds} s`),
            el('td', { class: 'actions' }, admin ? button('Remove', () => void adminCall(session, 'DELETE', `/v1/admin/oidc-issuers/${i.id}`).then(render).then(() => status.ok(`Removed ${i.url}.`)).catch(status.fail), 'danger') : null),
          ),
        ),
        'OIDC issuers',
      ),
      admin
        ? form('Add an issuer', [field('issuer-url', 'Issuer URL', url), field('issuer-kind', 'Kind', kind), el('button', { type: 'submit' }, 'Add issuer')], async () => {
            try {
              await adminCall(session, 'POST', '/v1/admin/oidc-issuers', { url: url.value.trim(), kind: kind.value });
              await render();
              status.ok(`Added ${url.value.trim()}.`);
            } catch (err) {
              status.fail(err);
            }
          })
        : null,
      el('h3', {}, 'Rules'),
      field('rule-publisher', 'Publisher', publisherPick),
      ruleStatus.node,
      rulesNode,
      admin
        ? form(
            'Add a rule',
            [
              field('rule-issuer', 'Issuer (URL or id)', ruleIssuer),
              field('rule-namespaces', 'Namespaces', ruleNamespaces, 'Separated by commas or spaces.'),
              field('rule-kind', 'Kind', ruleKind),
              field('rule-json', 'Rule (JSON)', ruleJson, 'GitHub: repository, workflow, optionally environment and ref. GitLab: project and ref. Generic: the claims to match.'),
              el('button', { type: 'submit' }, 'Add rule'),
            ],
            async () => {
              let rule: unknown;
              try {
                rule = JSON.parse(ruleJson.value);
              } catch {
                return ruleStatus.fail(new Error('The rule is not valid JSON.'));
              }
              try {
                await adminCall(session, 'POST', `/v1/admin/publishers/${publisherPick.value}/trusted-publishers`, { issuer: ruleIssuer.value.trim(), namespaces: splitList(ruleNamespaces.value), [ruleKind.value]: rule });
                await showRules();
                ruleStatus.ok('Added the rule.');
              } catch (err) {
                ruleStatus.fail(err);
              }
            },
          )
        : null,
    );
    await showRules();
  };
  publisherPick.addEventListener('change', () => void showRules().catch(ruleStatus.fail));
  await render();
}
