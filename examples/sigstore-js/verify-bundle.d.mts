// Types of verify-bundle.mjs, for TypeScript callers (the interop test).
export function loggedAt(bundle: unknown, trustedRoot: unknown): number;
export function verifyWithSigstoreJs(bundle: unknown, server: string): Promise<void>;
