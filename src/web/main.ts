// The public pages at /: search releases by model, digest, signature id or log index (the query
// in the URL, so results can be shared) and a page per release. Everything from the server is
// rendered as text (dom.ts); the page loads nothing from elsewhere and runs under a CSP with no
// inline script or style.
import type { Wire } from '../api/wire.ts';
import { api, getJson, problemText } from './api-client.ts';
import { checkRelease, type ReleaseCheck } from './check-release.ts';
import { alertText, el, show } from './dom.ts';
import { utc } from './format.ts';
import { frontPage } from './front-page.ts';
import { keysPage } from './keys-page.ts';
import { logPage } from './log-page.ts';
import { parseQuery } from './query.ts';
import { releaseList } from './release-list.ts';
import { verifyPage } from './verify-page.ts';

const content = document.getElementById('content')!;
// The hashing worker's content-hashed name, which the server writes into the page.
const workerUrl = document.querySelector<HTMLMetaElement>('meta[name="modelsign-worker"]')?.content ?? '';

function searchForm(value: string): HTMLFormElement {
  const input = el('input', { id: 'q', name: 'q', type: 'search', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'q-help' });
  input.value = value;
  const form = el(
    'form',
    { role: 'search', class: 'search' },
    el('label', { for: 'q' }, 'Model, namespace, digest, signature id or log index'),
    el('div', { class: 'row' }, input, el('button', { type: 'submit' }, 'Search')),
    el('p', { id: 'q-help', class: 'hint' }, 'For example acme/llama-7b@1.0, or the SHA-256 of a file you have.'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/search?q=${encodeURIComponent(input.value.trim())}`;
  });
  return form;
}

const failure = (err: unknown) => alertText(problemText(err));

function results(items: Wire['SignatureSummary'][], what: string): HTMLElement {
  if (items.length === 0) return el('p', { role: 'status' }, `No signed release matches ${what}.`);
  return el('section', { 'aria-label': 'Results' }, el('p', { role: 'status' }, `${items.length} signed release${items.length === 1 ? '' : 's'} for ${what}:`), releaseList(items));
}

async function search(text: string): Promise<void> {
  const query = parseQuery(text);
  show(content, searchForm(text), el('p', { role: 'status' }, 'Searching…'));
  const out = (node: HTMLElement) => show(content, searchForm(text), node);
  try {
    switch (query.kind) {
      case 'invalid':
        return out(alertText(query.message));
      case 'model':
        return out(results((await api.signaturesByModel(query.model, query.version)).items, query.version ? `${query.model}@${query.version}` : query.model));
      case 'namespace':
        return out(results((await api.signaturesByNamespace(query.namespace)).items, `the namespace ${query.namespace}`));
      case 'digest':
        return out(results((await api.signaturesByDigest(query.sha256)).items, `the digest ${query.sha256}`));
      case 'id':
        location.replace(`#/release/${query.id}`);
        return;
      case 'log-index': {
        const entry = (await api.logEntry(query.index)).entries[0];
        if (!entry) return out(el('p', { role: 'status' }, `The log has no entry ${query.index} yet.`));
        location.replace(`#/release/${entry.signatureId}`);
        return;
      }
    }
  } catch (err) {
    out(failure(err));
  }
}

function row(label: string, ...value: (Node | string)[]): HTMLElement[] {
  return [el('dt', {}, label), el('dd', {}, ...value)];
}

async function release(id: string): Promise<void> {
  show(content, el('p', { role: 'status' }, 'Loading…'));
  try {
    const [s, jwks] = await Promise.all([api.signature(id), getJson<unknown>('/v1/keys')]);
    const keys = jwks as Awaited<ReturnType<typeof api.keys>>;
    const key = keys.keys.find((k) => k.kid === s.kid);
    const check = checkRelease(s, jwks);
    const [namespace, name] = s.model.split('/');
    const bundleUrl = `/v1/models/${encodeURIComponent(namespace!)}/${encodeURIComponent(name!)}/versions/${encodeURIComponent(s.version)}/bundle`;
    show(
      content,
      el('h2', {}, `${s.model}@${s.version}`),
      el(
        'dl',
        { class: 'facts' },
        ...row('Publisher', s.publisher),
        ...row('Signed', utc(s.createdAt)),
        ...row('Key', el('code', {}, s.kid), key ? ` (${key.crv ?? key.kty}, ${key.status}) ` : ' (not among the service\'s keys) ', el('a', { href: '#/keys' }, 'rotation history')),
        ...row('Root digest', el('code', {}, s.rootDigest)),
        ...row('Log entry', s.logIndex === null ? 'pending' : String(s.logIndex)),
        ...row('Signature id', el('code', {}, s.id)),
      ),
      checked(check),
      el('p', {}, el('a', { href: bundleUrl, download: 'model.sig' }, 'Download the bundle (model.sig)')),
      files(s),
    );
  } catch (err) {
    show(content, failure(err));
  }
}

function checked(check: ReleaseCheck): HTMLElement {
  const keys = el(
    'p',
    { class: 'hint' },
    'Checked against this server\'s keys: release key ',
    el('code', {}, check.releaseKey?.kid ?? 'unknown'),
    check.logKeys.length > 0 ? '; log key ' : '',
    ...check.logKeys.flatMap((k, i) => [i > 0 ? ', ' : '', el('code', {}, k.kid)]),
    '. This shows the server\'s keys vouch for the bundle; to check against a key you pinned, use modelsign verify --key.',
  );
  if (check.valid) {
    const time = check.integratedTime === null ? '' : `, logged ${utc(new Date(check.integratedTime * 1000).toISOString())}`;
    return el('section', { class: 'check ok', 'aria-label': 'Verification' }, el('p', { role: 'status' }, `Verified in your browser: signature, key status and log entry ${check.logIndex}${time} (inclusion proof and signed checkpoint).`), keys);
  }
  const pending = check.reasons.length === 1 && check.reasons[0]!.code === 'tlog_entry_missing';
  return el(
    'section',
    { class: pending ? 'check pending' : 'check bad', 'aria-label': 'Verification' },
    el('p', { role: pending ? 'status' : 'alert' }, pending ? 'Not yet in a signed checkpoint of the log: the entry is pending.' : 'This bundle does not check out in your browser:'),
    pending ? null : el('ul', {}, ...check.reasons.map((r) => el('li', {}, el('code', {}, r.code), `: ${r.message}`))),
    keys,
  );
}

function files(s: Wire['Signature']): HTMLElement {
  const list = s.files ?? [];
  return el(
    'section',
    { 'aria-label': 'Files' },
    el('h3', {}, `Files (${list.length})`),
    el(
      'table',
      { class: 'files' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Path'), el('th', { scope: 'col' }, 'SHA-256'), el('th', { scope: 'col' }, 'Bytes'))),
      el('tbody', {}, ...list.map((f) => el('tr', {}, el('td', { class: 'path' }, f.path), el('td', {}, el('code', {}, f.sha256)), el('td', { class: 'num' }, f.size === undefined ? '' : String(f.size))))),
    ),
  );
}

function page(render: (content: HTMLElement) => Promise<void>): void {
  render(content).catch((err) => show(content, failure(err)));
}

function route(): void {
  const hash = location.hash.replace(/^#/, '');
  if (hash === '/keys') return page(keysPage);
  if (hash === '/log') return page(logPage);
  if (hash === '/verify') return verifyPage(content, workerUrl);
  const releaseMatch = /^\/release\/([0-9a-fA-F-]{36})$/.exec(hash);
  if (releaseMatch) return void release(releaseMatch[1]!);
  const q = /^\/search\?q=(.*)$/.exec(hash);
  if (q) return void search(decodeURIComponent(q[1]!));
  const older = /^\/releases\?cursor=([0-9]{1,32})$/.exec(hash);
  page((c) => frontPage(c, searchForm(''), older?.[1]));
}

window.addEventListener('hashchange', route);
route();
