// Trusted publishing as the service keeps it: the OIDC issuers it accepts and the rules that let a
// CI job of one of them sign for a publisher.
import type { IssuerKind, TrustedPublisherRule } from './rules.ts';

export interface OidcIssuer {
  id: string;
  url: string;
  kind: IssuerKind;
  jwksUri: string;
  algorithms: string[];
  maxTokenAgeSeconds: number;
  createdAt: Date;
}

export interface TrustedPublisherRecord {
  id: string;
  publisherId: string;
  /** The issuer's URL. */
  issuer: string;
  kind: IssuerKind;
  namespaces: string[];
  publicRepository: boolean;
  rule: TrustedPublisherRule;
  createdAt: Date;
}
