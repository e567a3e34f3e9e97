// Exit codes of the client commands (hash, sign, verify, audit, log monitor): each kind of
// outcome a script may branch on has its own.
export const EXIT = {
  /** Verified, signed, hashed. */
  ok: 0,
  /** A file was changed, added, removed, or the bundle or signature does not check out. */
  tampered: 1,
  /** Bad arguments. */
  usage: 2,
  /** The key is not trusted, is revoked or not yet active, or the log key is unknown. */
  untrusted: 3,
  /** A path or bundle could not be found or read. */
  io: 4,
  /** The service could not be reached or failed. */
  service: 5,
  /** The service refused the token. */
  auth: 6,
  /** The service refused the request (e.g. a version already signed with other files). */
  refused: 7,
} as const;

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
