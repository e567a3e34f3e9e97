// What a failure that is not a ModelsignError means for whoever called a service: the database
// could not serve the call (answer 503, try again), or it refused a value as text (the caller's
// input, answer 400). Anything else is a bug. The error handler maps these in one place.
import { isConnectionError, isInvalidTextError } from '../db/errors.ts';

export type FailureKind = 'database_unavailable' | 'invalid_text';

export function failureKind(err: unknown): FailureKind | undefined {
  if (isInvalidTextError(err)) return 'invalid_text';
  if (isConnectionError(err)) return 'database_unavailable';
  return undefined;
}
