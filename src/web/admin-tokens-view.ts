// Tokens in the admin console: the list (GET /v1/admin/tokens never returns a JWT), issue one
// (its JWT shown once, here, and kept nowhere), revoke one.
import type { Wire } from '../api/wire.ts';
import { adminCall, type Session } from './admin-session.ts';
import { button, field, form, statusLine, table } from './admin-ui.ts';
import { utc } from './format.ts';
import { el, show } from './dom.ts';

export async function tokensSection(root: HTMLElement, session: Session): Promise<void> {
  const status = statusLine('tokens-status');
  const issued = el('div', { id: 'issued-token' });
  const admin = session.role === 'admin';
  const role = el('select', { id: 'token-role' }, el('option', { value: 'publisher' }, 'publisher'), el('option', { value: 'auditor' }, 'auditor'), el('option', { value: 'admin' }, 'admin'));
  const who = el('input', { id: 'token-who', type: 'text', required: '', autocomplete: 'off' });
  const ttl = el('input', { id: 'token-ttl', type: 'text', required: '', value: '30d', pattern: '[1-9][0-9]{0,6}[smhd]' });
  const onlyActive = el('input', { id: 'token-active', type: 'checkbox' });
  let cursor: string | null = null;

  const render = async (more = false) => {
    const page = await adminCall<Wire['TokenList']>(session, 'GET', `/v1/admin/tokens?limit=50${onlyActive.checked ? '&status=active' : ''}${more && cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    cursor = page.nextCursor;
    const rows = page.items.map((t) =>
      el(
        'tr',
        {},
        el('td', {}, el('code', {}, t.jti)),
        el('td', {}, t.role),
        el('td', {}, t.publisher ?? t.subject, t.trustedPublishing ? ' (trusted publishing)' : ''),
        el('td', {}, utc(t.issuedAt)),
        el('td', {}, utc(t.expiresAt)),
        el('td', {}, t.status, t.revokedAt ? ` ${utc(t.revokedAt)}` : ''),
        el('td', { class: 'actions' }, admin && t.status === 'active' ? button('Revoke', () => void revoke(t), 'danger', { 'aria-label': `Revoke token ${t.jti}` }) : null),
      ),
    );
    show(
      root,
      el('h2', {}, 'Tokens'),
      status.node,
      el('div', { class: 'toolbar' }, el('label', { for: 'token-active' }, onlyActive, ' Only active tokens')),
      table(['Token id (jti)', 'Role', 'For', 'Issued', 'Expires', 'Status', 'Actions'], rows, 'Tokens'),
      cursor ? button('Next page', () => void render(true).catch(status.fail), 'secondary') : null,
      admin
        ? form(
            'Issue a token',
            [
              el('h3', {}, 'Issue a token'),
              field('token-role', 'Role', role),
              field('token-who', 'Publisher (for a publisher token) or subject', who),
              field('token-ttl', 'Lifetime', ttl, 'A number and s, m, h or d, at most 3650d.'),
              el('button', { type: 'submit' }, 'Issue'),
            ],
            issue,
          )
        : null,
      issued,
    );
  };
  onlyActive.addEventListener('change', () => void render().catch(status.fail));

  async function issue(): Promise<void> {
    try {
      const body = role.value === 'publisher' ? { role: role.value, publisher: who.value.trim(), ttl: ttl.value.trim() } : { role: role.value, subject: who.value.trim(), ttl: ttl.value.trim() };
      const t = await adminCall<{ token: string; jti: string; expiresAt: string }>(session, 'POST', '/v1/admin/tokens', body);
      await render();
      const shown = el('textarea', { id: 'issued-jwt', readonly: '', rows: '3', 'aria-label': 'The new token' });
      shown.value = t.token;
      show(issued, el('p', { role: 'status', class: 'ok' }, `Issued ${t.jti}, valid until ${utc(t.expiresAt)}. Copy it now: it is shown once and the service does not keep it.`), shown);
    } catch (err) {
      status.fail(err);
    }
  }

  async function revoke(t: Wire['TokenList']['items'][number]): Promise<void> {
    try {
      await adminCall(session, 'DELETE', `/v1/admin/tokens/${t.jti}`);
      await render();
      status.ok(`Revoked ${t.jti}: it is refused from the next request on.`);
    } catch (err) {
      status.fail(err);
    }
  }

  await render();
}
