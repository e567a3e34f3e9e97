// Who is calling: the verified token, joined with the current state of its publisher.
import type { AlgorithmId } from '../core/crypto/algorithm.ts';
import type { SignerIdentity } from '../core/oidc/identity.ts';
import type { Role } from '../core/tokens.ts';

export type { Role };

export interface Principal {
  jti: string;
  role: Role;
  subject: string;
  publisherId: string | null;
  /** The publisher's namespaces now, not when the token was issued. */
  namespaces: readonly string[];
  /** The algorithm each of those namespaces signs releases with, now. */
  signingAlgorithms: Readonly<Record<string, AlgorithmId>>;
  /** The token, and the CI run behind it when trusted publishing minted it: what a signature records. */
  identity: SignerIdentity;
}

/** How the audit trail names an actor. */
export function actorOf(principal: Principal): string {
  return `${principal.role}:${principal.subject}`;
}
