// Keys in the admin console: every key with its lifecycle; rotate an active key (with the
// expectedActive guard, so two admins acting on the same view rotate once); revoke a key as of
// the time it was compromised, after a confirmation that says how many signatures become invalid.
import type { Wire } from '../api/wire.ts';
import { adminCall, type Session } from './admin-session.ts';
import { button, field, form, statusLine, table } from './admin-ui.ts';
import { call, problemText } from './api-client.ts';
import { alertText, el, show } from './dom.ts';
import { utc } from './format.ts';

interface Count {
  total: number;
  invalidated: number;
  atRisk: number;
}

const algorithmOf = (k: Wire['Jwk']) => (k.crv === 'P-256' ? 'ECDSA P-256' : k.crv === 'Ed25519' ? 'Ed25519' : (k.crv ?? k.alg ?? '?'));

export async function keysSection(root: HTMLElement, session: Session): Promise<void> {
  const status = statusLine('keys-status');
  const panel = el('div', { id: 'revoke-panel' });
  const render = async () => {
    const { keys } = await call<Wire['Jwks']>('GET', '/v1/keys', { fresh: true });
    const admin = session.role === 'admin';
    const rows = keys.map((k) =>
      el(
        'tr',
        {},
        el('td', {}, el('code', {}, k.kid)),
        el('td', {}, k.purpose),
        el('td', {}, algorithmOf(k)),
        el('td', {}, k.status),
        el('td', {}, `created ${utc(k.createdAt)}`, k.activatedAt ? `; active ${utc(k.activatedAt)}` : '', k.retiredAt ? `; retired ${utc(k.retiredAt)}` : '', k.revokedAt ? `; revoked ${utc(k.revokedAt)} (compromised ${utc(k.compromisedAt)})` : ''),
        el(
          'td',
          { class: 'actions' },
          admin && k.status === 'active' ? button('Rotate', () => void rotate(k), 'secondary', { 'aria-label': `Rotate ${k.purpose} key ${k.kid.slice(0, 12)}` }) : null,
          // Token keys are revoked with the CLI: revoking one here would end this very session.
          admin && k.status !== 'revoked' && k.purpose !== 'token' ? button('Revoke…', () => revokePanel(k), 'danger', { 'aria-label': `Revoke ${k.purpose} key ${k.kid.slice(0, 12)}` }) : null,
        ),
      ),
    );
    show(root, el('h2', {}, 'Keys'), status.node, table(['Key id', 'Purpose', 'Algorithm', 'Status', 'Lifecycle', 'Actions'], rows, 'Keys'), panel);
  };

  const rotate = async (k: Wire['Jwk']) => {
    try {
      const done = await adminCall<Wire['Rotation']>(session, 'POST', '/v1/admin/keys/rotate', { purpose: k.purpose, expectedActive: k.kid });
      await render();
      status.ok(`Rotated the ${k.purpose} key: ${done.active.kid} is active, ${done.previous.kid} is retired.`);
    } catch (err) {
      status.fail(err);
    }
  };

  const revokePanel = (k: Wire['Jwk']) => {
    const when = el('input', { id: 'compromised-at', type: 'datetime-local', step: '1', required: '' });
    const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60_000);
    when.value = now.toISOString().slice(0, 19);
    const reason = el('input', { id: 'revoke-reason', type: 'text', required: '', maxlength: '500' });
    const confirm = el('div', { id: 'revoke-confirm' });
    show(
      panel,
      el('h3', {}, `Revoke ${k.purpose} key ${k.kid.slice(0, 16)}…`),
      form(
        'Revoke a key',
        [
          field('compromised-at', 'Compromised at (your local time)', when, 'Signatures the log proves older stay valid; later ones become invalid.'),
          field('revoke-reason', 'Reason', reason),
          el('div', { class: 'toolbar' }, el('button', { type: 'submit' }, 'Count what this invalidates'), button('Cancel', () => show(panel), 'secondary')),
          confirm,
        ],
        async () => {
          const at = new Date(when.value);
          if (Number.isNaN(at.getTime()) || reason.value.trim() === '') return show(confirm, alertText('Give the time of compromise and a reason.'));
          try {
            const count = await adminCall<Count>(session, 'GET', `/v1/admin/keys/${k.kid}/signature-count?compromisedAt=${encodeURIComponent(at.toISOString())}`);
            const also = count.atRisk > count.invalidated ? `, and up to ${count.atRisk - count.invalidated} more made in the five seconds before it if their log entry came later` : '';
            show(
              confirm,
              el('p', { role: 'alert', class: 'warning' }, `Revoking this key as of ${utc(at.toISOString())} makes ${count.invalidated} of its ${count.total} signature${count.total === 1 ? '' : 's'} invalid${also}. This cannot be undone.`),
              el(
                'div',
                { class: 'toolbar' },
                button('Revoke the key', () => void revoke(k, at, reason.value.trim()), 'danger'),
                button('Cancel', () => show(panel), 'secondary'),
              ),
            );
          } catch (err) {
            show(confirm, alertText(problemText(err)));
          }
        },
      ),
    );
    when.focus();
  };

  const revoke = async (k: Wire['Jwk'], at: Date, reason: string) => {
    try {
      const done = await adminCall<Wire['Revocation']>(session, 'POST', `/v1/admin/keys/${k.kid}/revoke`, { compromisedAt: at.toISOString(), reason });
      show(panel);
      await render();
      status.ok(`Revoked ${k.kid}.`, done.replacement ? ` ${done.replacement.kid} is now the active ${k.purpose} key.` : '');
    } catch (err) {
      status.fail(err);
    }
  };

  await render();
}
