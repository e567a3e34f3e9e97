// What a failure that is not a ModelsignError means for whoever called a service: the database
// could not serve the call (unavailable, read-only or busy: answer 503, try again), or it
// refused a value as text (the caller's input, answer 400). Anything else is a bug. The error
// handler maps these in one place.
import { databaseFailure, isInvalidTextError, type DatabaseFailure } from '../../db/errors.ts';

export type { DatabaseFailure };
export type FailureKind = DatabaseFailure | 'invalid_text';

export function failureKind(err: unknown): FailureKind | undefined {
  return isInvalidTextError(err) ? 'invalid_text' : databaseFailure(err);
}
