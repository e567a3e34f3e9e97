// Publishers in the admin console: create one (name, namespaces, the algorithm its releases are
// signed with), disable or re-enable it, replace its namespaces, change a namespace's algorithm.
import type { Wire } from '../api/wire.ts';
import { adminCall, type Session } from './admin-session.ts';
import { button, field, form, splitList, statusLine, table } from './admin-ui.ts';
import { utc } from './format.ts';
import { el, show } from './dom.ts';

function algorithmSelect(id: string): HTMLSelectElement {
  return el('select', { id }, el('option', { value: 'ed25519' }, 'Ed25519'), el('option', { value: 'ecdsa-p256' }, 'ECDSA P-256 (model_signing, cosign)'));
}

export async function publishersSection(root: HTMLElement, session: Session): Promise<void> {
  const status = statusLine('publishers-status');
  const admin = session.role === 'admin';
  const name = el('input', { id: 'new-publisher-name', type: 'text', required: '', autocomplete: 'off' });
  const namespaces = el('input', { id: 'new-publisher-namespaces', type: 'text', required: '', autocomplete: 'off' });
  const algorithm = algorithmSelect('new-publisher-algorithm');

  const patch = async (p: Wire['Publisher'], body: Record<string, unknown>, said: string) => {
    try {
      await adminCall(session, 'PATCH', `/v1/admin/publishers/${p.id}`, body);
      await render();
      status.ok(said);
    } catch (err) {
      status.fail(err);
    }
  };

  const editor = (p: Wire['Publisher']) => {
    const ns = el('input', { id: `ns-${p.id}`, type: 'text', 'aria-label': `Namespaces of ${p.name}` });
    ns.value = p.namespaces.join(', ');
    const which = el('select', { 'aria-label': `Namespace of ${p.name} whose algorithm to set` }, ...p.namespaces.map((n) => el('option', { value: n }, n)));
    const alg = algorithmSelect(`alg-${p.id}`);
    alg.setAttribute('aria-label', `Signing algorithm for that namespace of ${p.name}`);
    return el(
      'div',
      { class: 'toolbar' },
      ns,
      button('Save namespaces', () => void patch(p, { namespaces: splitList(ns.value) }, `${p.name} now owns ${splitList(ns.value).join(', ')}.`), 'secondary'),
      which,
      alg,
      button('Set algorithm', () => void patch(p, { signingAlgorithms: { [which.value]: alg.value } }, `${which.value} releases are signed with ${alg.value} from now on.`), 'secondary'),
    );
  };

  const render = async () => {
    const { items } = await adminCall<{ items: Wire['Publisher'][] }>(session, 'GET', '/v1/admin/publishers');
    const rows = items.map((p) =>
      el(
        'tr',
        {},
        el('td', {}, p.name),
        el('td', {}, p.namespaces.map((n) => `${n} (${p.signingAlgorithms[n] ?? 'ed25519'})`).join(', ')),
        el('td', {}, p.disabledAt ? `disabled ${utc(p.disabledAt)}` : 'enabled'),
        el('td', {}, utc(p.createdAt)),
        el(
          'td',
          { class: 'actions' },
          admin ? button(p.disabledAt ? 'Enable' : 'Disable', () => void patch(p, { disabled: !p.disabledAt }, `${p.name} is ${p.disabledAt ? 'enabled' : 'disabled'}.`), p.disabledAt ? 'secondary' : 'danger', { 'aria-label': `${p.disabledAt ? 'Enable' : 'Disable'} ${p.name}` }) : null,
          admin ? editor(p) : null,
        ),
      ),
    );
    show(
      root,
      el('h2', {}, 'Publishers'),
      status.node,
      table(['Name', 'Namespaces (algorithm)', 'State', 'Created', 'Actions'], rows, 'Publishers'),
      admin
        ? form(
            'Create a publisher',
            [
              el('h3', {}, 'Create a publisher'),
              field('new-publisher-name', 'Name', name, 'Lowercase letters, digits and . _ -'),
              field('new-publisher-namespaces', 'Namespaces', namespaces, 'Separated by commas or spaces.'),
              field('new-publisher-algorithm', 'Signing algorithm', algorithm),
              el('button', { type: 'submit' }, 'Create'),
            ],
            async () => {
              try {
                const created = await adminCall<Wire['Publisher']>(session, 'POST', '/v1/admin/publishers', { name: name.value.trim(), namespaces: splitList(namespaces.value) });
                if (algorithm.value !== 'ed25519') {
                  await adminCall(session, 'PATCH', `/v1/admin/publishers/${created.id}`, { signingAlgorithms: Object.fromEntries(created.namespaces.map((n) => [n, algorithm.value])) });
                }
                name.value = '';
                namespaces.value = '';
                await render();
                status.ok(`Created ${created.name}.`);
              } catch (err) {
                status.fail(err);
              }
            },
          )
        : null,
    );
  };
  await render();
}
