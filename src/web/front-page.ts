// The front page: the search box, then what the service holds: the log's size and the newest
// releases, newest first, twenty a page (the API's cursor in the URL: `#/releases?cursor=`), each
// linking to its release page, so a person arriving sees what is there before knowing what to ask.
import { api } from './api-client.ts';
import { el, show } from './dom.ts';
import { releaseList } from './release-list.ts';

const PAGE = 20;

export async function frontPage(content: HTMLElement, search: HTMLElement, cursor: string | undefined): Promise<void> {
  show(content, search, el('p', { role: 'status' }, 'Loading the newest releases…'));
  const [page, log] = await Promise.all([api.newestSignatures(PAGE, cursor), api.logEntries(0, 0)]);
  const nav = el(
    'nav',
    { class: 'pager', 'aria-label': 'Pages of releases' },
    cursor ? el('a', { href: '#/' }, 'Newest releases') : null,
    page.nextCursor ? el('a', { href: `#/releases?cursor=${encodeURIComponent(page.nextCursor)}`, rel: 'next' }, 'Older releases') : null,
  );
  show(
    content,
    search,
    el(
      'section',
      { 'aria-labelledby': 'newest-heading' },
      el('h2', { id: 'newest-heading' }, cursor ? 'Older releases' : 'Newest releases'),
      el('p', {}, `The transparency log holds ${log.treeSize} entr${log.treeSize === 1 ? 'y' : 'ies'} in its newest signed checkpoint. `, el('a', { href: '#/log' }, 'See the log')),
      page.items.length === 0 ? el('p', { role: 'status' }, cursor ? 'No older releases.' : 'Nothing has been signed yet.') : releaseList(page.items),
      nav,
    ),
  );
}
