// Who is calling: the verified token, joined with the current state of its publisher.
import type { Role } from '../core/tokens.ts';

export type { Role };

export interface Principal {
  jti: string;
  role: Role;
  subject: string;
  publisherId: string | null;
  /** The publisher's namespaces now, not when the token was issued. */
  namespaces: readonly string[];
}

/** How the audit trail names an actor. */
export function actorOf(principal: Principal): string {
  return `${principal.role}:${principal.subject}`;
}
