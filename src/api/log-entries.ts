// An entry of GET /v1/log/entries: the leaf data and its hash (what the tree commits to), the
// entry's kind, its body as JSON when it is a Rekor v2 entry, and what a monitor needs to check
// that body rather than trust it: the release it belongs to and the signed DSSE payload.
import { fromUtf8, toBase64 } from '../core/bytes.ts';
import type { LogEntry } from '../core/tlog/entries/entry-content.ts';
import type { Wire } from './wire.ts';

type LogEntryView = Wire['LogEntries']['entries'][number];

export function logEntryView(e: LogEntry): LogEntryView {
  return {
    index: e.index,
    signatureId: e.signatureId,
    leafHash: toBase64(e.leafHash),
    data: toBase64(e.data),
    // Entries are read through core/tlog/entries/registry.ts, which knows only the contract's kinds.
    kindVersion: { ...e.kindVersion } as LogEntryView['kindVersion'],
    body: e.kindVersion.kind === 'hashedrekord' ? (JSON.parse(fromUtf8(e.data)) as Record<string, unknown>) : null,
    release: { model: e.release.model, version: e.release.version },
    payloadType: e.payloadType,
    payload: toBase64(e.payload),
    kid: e.kid,
    signedAt: e.signedAt.toISOString(),
  };
}
