// Times as every page shows them: the API's ISO 8601 instants in UTC, to the second.
export const utc = (iso: string | null | undefined): string => (iso ? iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC') : '—');
