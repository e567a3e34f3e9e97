// How a publisher is shown (the admin routes, `modelsign admin publisher --json`, the console):
// signing algorithms by their names (`ed25519`, `ecdsa-p256`), times as ISO 8601.
import { algorithmOf } from '../core/crypto/registry.ts';
import type { PublisherRecord } from '../core/publisher.ts';
import type { Wire } from './wire.ts';

export function publisherView(p: PublisherRecord): Wire['Publisher'] {
  return {
    id: p.id,
    name: p.name,
    namespaces: p.namespaces,
    signingAlgorithms: Object.fromEntries(Object.entries(p.signingAlgorithms).map(([ns, id]) => [ns, algorithmOf(id).name])),
    createdAt: p.createdAt.toISOString(),
    disabledAt: p.disabledAt?.toISOString() ?? null,
  };
}
