// Small pieces the admin console's sections share: labelled fields, a status line that shows the
// API's problem `detail` as text, tables, buttons and forms.
import { problemText } from './api-client.ts';
import { alertText, el, show, type Child } from './dom.ts';

/** A list typed into one field, separated by commas or spaces (namespaces). */
export const splitList = (text: string) => text.split(/[\s,]+/).filter(Boolean);

export function field(id: string, label: string, input: HTMLElement, hint?: string): HTMLElement {
  return el('div', { class: 'field' }, el('label', { for: id }, label), input, hint ? el('p', { class: 'hint' }, hint) : null);
}

/** A live region for one section: `ok` and `fail` replace what it says. */
export function statusLine(id: string) {
  const node = el('div', { id, 'aria-live': 'polite' });
  return {
    node,
    ok: (...text: Child[]) => show(node, el('p', { role: 'status', class: 'ok' }, ...text)),
    fail: (err: unknown) => show(node, alertText(problemText(err))),
    clear: () => show(node),
  };
}

export function table(headings: string[], rows: HTMLElement[], label: string): HTMLElement {
  return el(
    'div',
    { class: 'scroll', role: 'region', 'aria-label': label, tabindex: '0' },
    el('table', { class: 'admin' }, el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, ...rows)),
  );
}

export function button(text: string, onClick: () => void, kind: 'primary' | 'secondary' | 'danger' = 'primary', attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', ...(kind === 'primary' ? {} : { class: kind }), ...attrs }, text);
  b.addEventListener('click', onClick);
  return b;
}

/** A form whose submit runs `action` (never a navigation: form-action is 'none'). */
export function form(label: string, children: Child[], action: () => Promise<void> | void): HTMLFormElement {
  const f = el('form', { 'aria-label': label, class: 'admin-form' }, ...children);
  f.addEventListener('submit', (event) => {
    event.preventDefault();
    void action();
  });
  return f;
}
