// The audit trail in the admin console: pages of events in chain order, with the result of
// recomputing the whole hash chain on the server (GET /v1/admin/audit/chain).
import type { ResponseOf, Wire } from '../api/wire.ts';
import { adminCall, type Session } from './admin-session.ts';
import { button, statusLine, table } from './admin-ui.ts';
import { utc } from './format.ts';
import { alertText, el, show } from './dom.ts';

export async function auditSection(root: HTMLElement, session: Session): Promise<void> {
  const status = statusLine('audit-status');
  // The chain check reads the whole trail: once when the section opens, not once a page.
  const chain = await adminCall<ResponseOf<'verifyAuditChain', 200>>(session, 'GET', '/v1/admin/audit/chain');
  const render = async (cursor: string | null, previous: (string | null)[]) => {
    const page = await adminCall<Wire['AuditPage']>(session, 'GET', `/v1/admin/audit?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
    const verdict = chain.ok
      ? el('p', { role: 'status', class: 'ok' }, `Hash chain intact: ${chain.checked} events recomputed.`)
      : alertText(`Hash chain broken at event ${chain.firstBad!.seq}: ${chain.firstBad!.problem}`);
    show(
      root,
      el('h2', {}, 'Audit trail'),
      verdict,
      status.node,
      table(
        ['#', 'Time', 'Actor', 'Action', 'Target', 'Details'],
        page.items.map((e) => el('tr', {}, el('td', {}, String(e.seq)), el('td', {}, utc(e.at)), el('td', {}, e.actor), el('td', {}, e.action), el('td', {}, e.target), el('td', {}, el('code', {}, JSON.stringify(e.details))))),
        'Audit events',
      ),
      el(
        'div',
        { class: 'toolbar' },
        previous.length > 0 ? button('Previous page', () => void render(previous[previous.length - 1]!, previous.slice(0, -1)).catch(status.fail), 'secondary') : null,
        page.nextCursor ? button('Next page', () => void render(page.nextCursor, [...previous, cursor]).catch(status.fail), 'secondary') : null,
      ),
    );
  };
  await render(null, []);
}
