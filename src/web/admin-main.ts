// The admin console at /admin: sign in with an admin or auditor token (kept in sessionStorage
// only), then keys, publishers, tokens, trusted publishing and the audit trail. Every action is a
// call of the API with that token; what the API refuses is shown with its problem `detail`.
// Auditors see everything and change nothing (the API enforces it; the page hides the buttons).
import { auditSection } from './admin-audit-view.ts';
import { keysSection } from './admin-keys-view.ts';
import { publishersSection } from './admin-publishers-view.ts';
import { currentSession, lifetime, signIn, signOut, type Session } from './admin-session.ts';
import { tokensSection } from './admin-tokens-view.ts';
import { trustedSection } from './admin-trusted-view.ts';
import { field, form } from './admin-ui.ts';
import { problemText } from './api-client.ts';
import { alertText, el, show } from './dom.ts';

const content = document.getElementById('content')!;
const who = document.getElementById('who')!;

const SECTIONS: Record<string, { title: string; render: (root: HTMLElement, session: Session) => Promise<void> }> = {
  keys: { title: 'Keys', render: keysSection },
  publishers: { title: 'Publishers', render: publishersSection },
  tokens: { title: 'Tokens', render: tokensSection },
  trusted: { title: 'Trusted publishing', render: trustedSection },
  audit: { title: 'Audit trail', render: auditSection },
};

function signInForm(): void {
  show(who);
  const token = el('input', { id: 'admin-token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: '' });
  const said = el('div', { 'aria-live': 'polite' });
  show(
    content,
    el('h2', {}, 'Sign in'),
    form(
      'Sign in',
      [
        field('admin-token', 'Admin or auditor token', token, 'Kept in this tab only (sessionStorage) until you sign out or close it. Get one with modelsign admin token issue.'),
        el('button', { type: 'submit' }, 'Sign in'),
        said,
      ],
      async () => {
        try {
          await signIn(token.value);
          token.value = '';
          route();
        } catch (err) {
          show(said, alertText(problemText(err)));
        }
      },
    ),
  );
  token.focus();
}

let ticker: number | undefined;

function header(session: Session): void {
  const left = el('span', { id: 'lifetime' }, lifetime(session));
  const out = el('button', { type: 'button', class: 'secondary' }, 'Sign out');
  out.addEventListener('click', () => {
    signOut();
    location.hash = '#/';
    route();
  });
  show(
    who,
    el('span', {}, `Signed in as ${session.role} ${session.subject}, `),
    left,
    ' ',
    out,
  );
  window.clearInterval(ticker);
  ticker = window.setInterval(() => {
    if (!currentSession()) return route();
    left.textContent = lifetime(session);
  }, 30_000);
}

function route(): void {
  const session = currentSession();
  if (!session) return signInForm();
  header(session);
  const name = location.hash.replace(/^#\//, '') || 'keys';
  const section = SECTIONS[name] ?? SECTIONS.keys!;
  const nav = el('nav', { 'aria-label': 'Console sections', class: 'tabs' }, ...Object.entries(SECTIONS).map(([key, s]) => el('a', { href: `#/${key}`, ...(s === section ? { 'aria-current': 'page' } : {}) }, s.title)));
  const root = el('div', { class: 'section' });
  show(content, nav, root);
  section.render(root, session).catch((err: unknown) => {
    if (!currentSession()) return route();
    show(root, alertText(problemText(err)));
  });
}

window.addEventListener('hashchange', route);
route();
