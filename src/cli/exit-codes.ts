// The exit codes of every `modelsign` command, in one table: each kind of outcome a script or a
// cron job may branch on has its own code, and means the same whichever command returns it.
// README.md lists them with the codes they replaced (CHANGELOG.md, 0.2.0). A coded failure's
// code comes from core's ERRORS table (exitCodeOf).
import { errorSpec } from '../core/errors.ts';
export const EXIT = {
  /** Verified, signed, hashed, done. */
  ok: 0,
  /** A file was changed, added, removed or is unsigned, or the bundle or its signature does not check out. */
  tampered: 1,
  /** Bad arguments or configuration (a flag, an environment variable, a KEK that does not open the keys). */
  usage: 2,
  /** A key is not trusted, is revoked or was never active; a checkpoint is not signed by a trusted log key. */
  untrusted: 3,
  /** A path, bundle or state file could not be found, read or written. */
  io: 4,
  /** The service or the database could not be reached, failed, or is held by another process. */
  service: 5,
  /** The service refused the token. */
  auth: 6,
  /** The service refused the request (a version signed with other files, a stale rotation, an unknown publisher...). */
  refused: 7,
  /** The content check: a model file can run code when loaded (a pickle importing anything off the allowlist) or is malformed. */
  unsafe: 8,
  /** An append-only history was rewritten: the transparency log forked or rolled back, or the audit chain broke. */
  history: 9,
  /** An unexpected error (sysexits EX_SOFTWARE): a bug to report. */
  internal: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the user can act on: one line, and the exit code for its kind. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The exit code of a coded failure, in-process (a ModelsignError) and over HTTP (a problem's
 * `code`) alike: the outcome core's ERRORS table gives the code. A code this build does not know
 * (a newer service) is a refusal.
 */
export function exitCodeOf(code: string): ExitCode {
  const spec = errorSpec(code);
  return spec ? EXIT[spec.outcome] : EXIT.refused;
}
