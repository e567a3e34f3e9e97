// How trusted publishing is shown (the admin routes, `modelsign admin oidc-issuer|trusted-publisher
// --json`, the console).
import type { OidcIssuer, TrustedPublisherRecord } from '../core/oidc/records.ts';
import type { Wire } from './wire.ts';

export function issuerView(i: OidcIssuer): Wire['OidcIssuer'] {
  return { id: i.id, url: i.url, kind: i.kind, jwksUri: i.jwksUri, algorithms: i.algorithms, maxTokenAgeSeconds: i.maxTokenAgeSeconds, createdAt: i.createdAt.toISOString() };
}

export function trustedPublisherView(r: TrustedPublisherRecord): Wire['TrustedPublisher'] {
  return { id: r.id, publisherId: r.publisherId, issuer: r.issuer, kind: r.kind, namespaces: r.namespaces, publicRepository: r.publicRepository, rule: r.rule, createdAt: r.createdAt.toISOString() };
}
