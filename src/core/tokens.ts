// The vocabulary of bearer tokens: who may hold one and who issues them.

export const ROLES = ['admin', 'publisher', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return (ROLES as readonly unknown[]).includes(value);
}

/** The `iss` claim of every token this service issues. */
export const TOKEN_ISSUER = 'modelsign';
