// The log page: the current checkpoint, its signature checked in the page with the log key the
// server publishes, and a consistency check between two tree sizes the user enters (the proof
// verified in the page; when the larger size is the checkpoint's, its root must be the signed
// root, and the smaller size's root is shown to compare with one saved earlier); and the newest
// entries of the signed tree, each linking to its release.
import type { Wire } from '../api/wire.ts';
import { trustedKeysFromJwks, verifyCheckpoint, verifyConsistency } from '../core/verifier.ts';
import { fromBase64 } from '../core/bytes.ts';
import { ApiError, api, getJson, problemText } from './api-client.ts';
import { alertText, el, show } from './dom.ts';
import { utc } from './format.ts';

interface Signed {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  timestamp: number | null;
}

async function checkpoint(): Promise<{ signed: Signed | undefined; kid: string | undefined; problem: string | undefined; note: string }> {
  const [res, jwks] = await Promise.all([fetch('/v1/log/checkpoint', { credentials: 'omit' }), getJson<unknown>('/v1/keys')]);
  const note = await res.text();
  if (!res.ok) throw new ApiError(res.status, 'checkpoint', `the service answered ${res.status} for the checkpoint`);
  let problem = 'no log key of this server signed it';
  for (const key of (trustedKeysFromJwks(jwks) ?? []).filter((k) => k.purpose === 'log')) {
    try {
      const signed = verifyCheckpoint(note, key);
      return { signed, kid: key.kid, problem: undefined, note };
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
  }
  return { signed: undefined, kid: undefined, problem, note };
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

export async function logPage(content: HTMLElement): Promise<void> {
  show(content, el('p', { role: 'status' }, 'Loading…'));
  const cp = await checkpoint();
  const result = el('div', { 'aria-live': 'polite' });
  const from = el('input', { id: 'from', type: 'number', min: '1', inputmode: 'numeric' });
  const to = el('input', { id: 'to', type: 'number', min: '1', inputmode: 'numeric' });
  if (cp.signed) to.value = String(cp.signed.size);
  const form = el(
    'form',
    { class: 'consistency', 'aria-label': 'Consistency check' },
    el('h3', {}, 'Consistency between two sizes'),
    el('p', { class: 'hint' }, 'Proves the log at the larger size extends the log at the smaller one: nothing was rewritten or removed.'),
    el('div', { class: 'row' }, el('label', { for: 'from' }, 'From size'), from, el('label', { for: 'to' }, 'To size'), to, el('button', { type: 'submit' }, 'Check')),
    result,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void consistency(Number(from.value), Number(to.value), cp.signed, result);
  });
  show(
    content,
    el('h2', {}, 'Transparency log'),
    cp.signed
      ? el(
          'section',
          { class: 'check ok', 'aria-label': 'Checkpoint' },
          el('p', { role: 'status' }, `Checkpoint verified in your browser with log key ${cp.kid!.slice(0, 12)}…: ${cp.signed.size} entries.`),
          el(
            'dl',
            { class: 'facts' },
            el('dt', {}, 'Origin'),
            el('dd', {}, cp.signed.origin),
            el('dt', {}, 'Size'),
            el('dd', {}, String(cp.signed.size)),
            el('dt', {}, 'Root hash'),
            el('dd', {}, el('code', {}, b64(cp.signed.rootHash))),
            el('dt', {}, 'Signed at'),
            el('dd', {}, cp.signed.timestamp === null ? '—' : new Date(cp.signed.timestamp * 1000).toISOString()),
          ),
        )
      : el('section', { class: 'check bad', 'aria-label': 'Checkpoint' }, el('p', { role: 'alert' }, `The checkpoint does not check out in your browser: ${cp.problem}`)),
    await newestEntries(cp.signed?.size),
    form,
  );
}

const NEWEST = 20;

/** The newest entries of the signed tree (index, release, key, time), each linking to its release. */
async function newestEntries(size: number | undefined): Promise<HTMLElement> {
  if (size === undefined) return el('section', { 'aria-label': 'Newest entries' });
  if (size === 0) return el('section', { 'aria-labelledby': 'entries-heading' }, el('h3', { id: 'entries-heading' }, 'Newest entries'), el('p', { role: 'status' }, 'The log is empty: nothing has been signed yet.'));
  let page: Wire['LogEntries'];
  try {
    page = await api.logEntries(Math.max(0, size - NEWEST), size);
  } catch (err) {
    return el('section', { 'aria-label': 'Newest entries' }, alertText(`The entries could not be read: ${problemText(err)}`));
  }
  const rows = [...page.entries].reverse();
  return el(
    'section',
    { 'aria-labelledby': 'entries-heading' },
    el('h3', { id: 'entries-heading' }, `Newest entries (${rows.length} of ${size})`),
    el(
      'table',
      { class: 'files' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Index'), el('th', { scope: 'col' }, 'Release'), el('th', { scope: 'col' }, 'Key'), el('th', { scope: 'col' }, 'Signed'))),
      el(
        'tbody',
        {},
        ...rows.map((e) =>
          el(
            'tr',
            {},
            el('td', { class: 'num' }, String(e.index)),
            el('td', {}, el('a', { href: `#/release/${e.signatureId}` }, `${e.release.model}@${e.release.version}`)),
            el('td', {}, el('code', {}, e.kid.slice(0, 12))),
            el('td', {}, utc(e.signedAt)),
          ),
        ),
      ),
    ),
  );
}

async function consistency(size1: number, size2: number, signed: Signed | undefined, out: HTMLElement): Promise<void> {
  if (!Number.isInteger(size1) || !Number.isInteger(size2) || size1 < 1 || size2 < size1) {
    show(out, alertText('Enter two sizes, the first at least 1 and not larger than the second.'));
    return;
  }
  try {
    const proof = await getJson<{ fromRoot: string; toRoot: string; hashes: string[] }>(`/v1/log/proofs/consistency?from=${size1}&to=${size2}`);
    const root1 = fromBase64(proof.fromRoot);
    const root2 = fromBase64(proof.toRoot);
    const hashes = proof.hashes.map((h) => fromBase64(h));
    if (!root1 || !root2 || hashes.some((h) => !h)) throw new Error('the proof is not base64');
    // verifyConsistency throws, naming what is wrong.
    let problem: string | undefined;
    try {
      verifyConsistency(size1, size2, hashes as Uint8Array[], root1, root2);
    } catch (err) {
      problem = `The consistency proof does not verify: ${err instanceof Error ? err.message : String(err)}.`;
    }
    const matchesCheckpoint = signed && size2 === signed.size ? b64(signed.rootHash) === proof.toRoot : undefined;
    if (problem === undefined && matchesCheckpoint === false) problem = 'The proof ends at a root other than the signed checkpoint\'s.';
    if (problem !== undefined) {
      show(out, alertText(problem));
      return;
    }
    show(
      out,
      el('p', { role: 'status', class: 'ok' }, `Consistent: the log at ${size2} entries extends the log at ${size1}${matchesCheckpoint ? ' (the signed checkpoint)' : ''}.`),
      el('p', { class: 'hint' }, `Root at ${size1}: `, el('code', {}, proof.fromRoot), ' — compare it with one you saved.'),
    );
  } catch (err) {
    show(out, alertText(problemText(err)));
  }
}
