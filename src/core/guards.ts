// Small guards shared by every parser of untrusted JSON in core (bundles, log entries, chain
// documents): one definition each, so they cannot drift apart.

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/**
 * A whole number written as a decimal string without sign or leading zeroes (Sigstore's int64
 * fields, checkpoint tree sizes), up to 2^53-1; undefined for anything else.
 */
export function parseDecimal(value: unknown): number | undefined {
  if (typeof value !== 'string' || !DECIMAL.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}
