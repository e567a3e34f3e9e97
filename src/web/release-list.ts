// A list of signed releases, each linking to its page: the search results and the front page's
// newest releases. Every string from the server is text (dom.ts).
import type { Wire } from '../api/wire.ts';
import { el } from './dom.ts';
import { utc } from './format.ts';

export function releaseList(items: readonly Wire['SignatureSummary'][]): HTMLUListElement {
  return el(
    'ul',
    { class: 'results' },
    ...items.map((s) =>
      el(
        'li',
        {},
        el('a', { href: `#/release/${s.id}` }, `${s.model}@${s.version}`),
        el('span', { class: 'meta' }, ` signed by ${s.publisher}, ${utc(s.createdAt)}, key ${s.kid.slice(0, 12)}, log entry ${s.logIndex ?? 'pending'}`),
      ),
    ),
  );
}
