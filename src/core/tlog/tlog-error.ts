// Errors of the transparency-log code. Like verdict reasons, the codes are stable: callers and
// tests branch on them, messages are for people.

export type TlogErrorCode =
  | 'proof_invalid'
  | 'range_invalid'
  | 'note_malformed'
  | 'note_unverified'
  | 'checkpoint_malformed'
  | 'kind_unknown'
  | 'vkey_malformed'
  | 'policy_malformed'
  | 'cosignature_invalid'
  | 'tlog_proof_malformed'
  | 'tile_path_invalid'
  | 'bundle_malformed';

export class TlogError extends Error {
  override readonly name = 'TlogError';
  constructor(
    readonly code: TlogErrorCode,
    message: string,
  ) {
    super(message);
  }
}
