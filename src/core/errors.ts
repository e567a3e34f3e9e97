// The one error type of modelsign. Every failure a caller can act on carries a stable `code`,
// and one table (ERRORS) gives each code its HTTP status and the outcome a command reports (the
// server's problem.ts and the CLI's exit-codes.ts both read it). Messages say what to fix; they
// never include secrets.

/**
 * Every error code with the HTTP status the service answers it with and the outcome a command
 * reports for it (the CLI maps outcomes to exit codes, src/cli/exit-codes.ts): one row per code,
 * so a new code without both does not compile, and a command's exit code is the same whether the
 * failure happened in-process or came back over HTTP.
 */
export const ERRORS = {
  validation_failed: { status: 400, outcome: 'refused', description: 'The request does not match the API schema; `errors` lists each problem.' },
  invalid_json: { status: 400, outcome: 'refused', description: 'The request body is not valid JSON.' },
  unsupported_media_type: { status: 415, outcome: 'refused', description: 'The request body must be application/json.' },
  payload_too_large: { status: 413, outcome: 'refused', description: 'The request body is larger than this route accepts.' },
  invalid_path: { status: 400, outcome: 'refused', description: 'A manifest path breaks the path rules (relative POSIX, NFC, no `..`, `.`, empty segments, control characters).' },
  duplicate_path: { status: 400, outcome: 'refused', description: 'The same path appears twice in a manifest.' },
  invisible_character: { status: 400, outcome: 'refused', description: 'A manifest or ignore path holds an invisible or bidirectional format character (Unicode Cf, Zl, Zp or Default_Ignorable_Code_Point; `codePoints` names them as U+XXXX), which would display a name other than the one signed.' },
  invalid_content_check: { status: 400, outcome: 'refused', description: 'The request\'s content check names a file that is not in the manifest, or names one twice.' },
  invalid_model_name: { status: 400, outcome: 'refused', description: 'The model name is not `namespace/name` with the allowed characters.' },
  invalid_version: { status: 400, outcome: 'refused', description: 'The version has characters or a length that are not allowed.' },
  invalid_namespace: { status: 400, outcome: 'refused', description: 'A namespace has characters or a length that are not allowed.' },
  invalid_algorithm: { status: 400, outcome: 'refused', description: 'A signing algorithm is not one of ed25519, ecdsa-p256.' },
  witness_policy_malformed: { status: 400, outcome: 'usage', description: 'The witness policy is not a C2SP tlog-policy this verifier accepts (the message names the line and the rule).' },
  invalid_duration: { status: 400, outcome: 'usage', description: 'A duration is not a number followed by s, m, h or d, or is out of range.' },
  token_missing: { status: 401, outcome: 'auth', description: 'The route needs a bearer token in the Authorization header.' },
  token_malformed: { status: 401, outcome: 'auth', description: 'The Authorization header or the token in it is not a well-formed bearer JWT.' },
  token_invalid: { status: 401, outcome: 'auth', description: 'The token is not one this service issued (bad signature, unknown key, wrong issuer or claims).' },
  token_expired: { status: 401, outcome: 'auth', description: 'The token has expired; ask an admin for a new one.' },
  token_revoked: { status: 401, outcome: 'auth', description: 'The token has been revoked.' },
  publisher_disabled: { status: 401, outcome: 'auth', description: 'The publisher this token belongs to is disabled.' },
  forbidden_role: { status: 403, outcome: 'auth', description: 'The token\'s role may not use this route.' },
  forbidden_namespace: { status: 403, outcome: 'auth', description: 'The publisher does not own the namespace of this model.' },
  not_found: { status: 404, outcome: 'refused', description: 'No such resource.' },
  route_not_found: { status: 404, outcome: 'refused', description: 'No such route.' },
  release_conflict: { status: 409, outcome: 'refused', description: 'This model version is already signed with a different manifest; releases are immutable.' },
  publisher_exists: { status: 409, outcome: 'refused', description: 'A publisher with this name already exists.' },
  namespace_taken: { status: 409, outcome: 'refused', description: 'A namespace is already owned by another publisher.' },
  publisher_unknown: { status: 404, outcome: 'refused', description: 'No publisher with this id or name.' },
  invalid_token_request: { status: 400, outcome: 'refused', description: 'The token request does not fit the role (a publisher token needs a publisher, others a subject).' },
  rotation_conflict: { status: 409, outcome: 'refused', description: 'The active key is no longer the one the request expected: it was rotated meanwhile.' },
  key_already_revoked: { status: 409, outcome: 'refused', description: 'The key is already revoked.' },
  invalid_compromise_time: { status: 400, outcome: 'refused', description: 'compromisedAt is in the future or before the key existed.' },
  tile_path_invalid: { status: 400, outcome: 'refused', description: 'A tile path is not C2SP tlog-tiles\' canonical `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` (L 0-63, W 1-255, N in x001/x234/067 groups, no leading zeroes).' },
  log_key_witnessed: { status: 409, outcome: 'refused', description: 'The log key cannot be rotated while witnesses are configured: witnesses pin it and refuse checkpoints signed by another. Only a compromise (revocation) replaces it, and then a new log is needed (README, "Witnesses").' },
  proof_not_ready: { status: 404, outcome: 'refused', description: 'No checkpoint that meets the witness quorum covers this entry yet (witnesses cosign the newest checkpoints, paced); try again after Retry-After. Without witnesses configured there is no witness proof at all.' },
  log_range_invalid: { status: 400, outcome: 'refused', description: 'A log index, tree size or range is outside the signed log (or its bounds are reversed).' },
  request_timeout: { status: 408, outcome: 'service', description: 'The request did not arrive in full within the request timeout.' },
  headers_too_large: { status: 431, outcome: 'refused', description: 'The request headers are larger than the service accepts.' },
  malformed_request: { status: 400, outcome: 'refused', description: 'The bytes received are not a valid HTTP/1.1 request.' },
  rate_limited: { status: 429, outcome: 'refused', description: 'Too many requests from this client address or token; wait for the number of seconds in Retry-After.' },
  key_unavailable: { status: 503, outcome: 'service', description: 'No usable key of the needed purpose; the service is not ready.' },
  kek_mismatch: { status: 503, outcome: 'usage', description: 'The configured KEK does not decrypt the stored keys.' },
  key_backend_unavailable: { status: 503, outcome: 'service', description: 'The hardware token (PKCS#11) holding the signing key cannot sign now: lookups and verification work, signing does not; try again after Retry-After.' },
  log_behind_published: { status: 503, outcome: 'service', description: 'The log published a checkpoint (signed by its key, found at a witness) larger than the tree its database holds: the database was restored from an older backup, and appending would fork the log. Reads go on; signing stops until the newer data is restored or a new log is started.' },
  log_leaves_unavailable: { status: 503, outcome: 'service', description: 'The entry bundle holds entries whose leaf data is not stored yet (a log made before 0.2 is being backfilled at start) or failed its check against the log (an alarm names the index); try again after Retry-After.' },
  unavailable: { status: 503, outcome: 'service', description: 'The database is unreachable, starting, shutting down, in recovery or out of connections; try again after Retry-After.' },
  database_busy: { status: 503, outcome: 'service', description: 'The database did not answer in time (statement or connection wait past its limit); try again after Retry-After.' },
  database_read_only: { status: 503, outcome: 'service', description: 'The database accepts only reads (a standby after failover, or set read-only): lookups and verification work, signing and admin changes do not; try again after Retry-After.' },
  invalid_trusted_publisher: { status: 400, outcome: 'refused', description: 'A trusted-publisher rule is incomplete or malformed, or names a namespace its publisher does not own; the message says which field.' },
  invalid_oidc_issuer: { status: 422, outcome: 'refused', description: 'The OIDC issuer cannot be used: not an https URL (http needs MODELSIGN_OIDC_ALLOW_INSECURE=1), its discovery document could not be fetched, or it names another issuer.' },
  oidc_issuer_exists: { status: 409, outcome: 'refused', description: 'An OIDC issuer with this URL is already configured.' },
  oidc_issuer_in_use: { status: 409, outcome: 'refused', description: 'Trusted-publisher rules still use this issuer; delete them first.' },
  oidc_token_malformed: { status: 400, outcome: 'auth', description: 'The ID token is not a compact JWS with a JSON header and claims.' },
  oidc_issuer_unknown: { status: 401, outcome: 'auth', description: 'The ID token\'s issuer (`iss`) is not one an admin configured; nothing was fetched from it.' },
  oidc_token_invalid: { status: 401, outcome: 'auth', description: 'The ID token does not verify: algorithm not allowed, no or unknown `kid`, bad signature, a required claim (`iss aud exp iat jti`) missing or not of its type, or `aud` not exactly this service\'s audience (GET /v1/oidc/audience).' },
  oidc_token_expired: { status: 401, outcome: 'auth', description: 'The ID token is expired, not yet valid, issued in the future, or older than its issuer\'s maximum age; request a fresh one.' },
  oidc_token_reused: { status: 409, outcome: 'auth', description: 'This ID token (its issuer and jti) has been exchanged already; each is exchanged once.' },
  invalid_publisher: { status: 403, outcome: 'auth', description: 'No trusted-publisher rule allows this ID token (the message names the failing condition only when the token\'s repository or project has a rule).' },
  oidc_keys_unavailable: { status: 503, outcome: 'service', description: 'The issuer\'s signing keys (JWKS) could not be fetched and none are known; try again after Retry-After.' },
  internal_error: { status: 500, outcome: 'service', description: 'An unexpected error; it has been logged with the request id.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** What a command reports for a failure: each is one exit code (src/cli/exit-codes.ts EXIT). */
export type Outcome = 'usage' | 'untrusted' | 'io' | 'service' | 'auth' | 'refused';

export interface ErrorSpec {
  /** The HTTP status of the problem+json answer. */
  status: number;
  outcome: Outcome;
  /** What the code means and what to do about it (the service's /docs lists it). */
  description: string;
}

/** The code's row, or undefined for a code this build does not know (from a newer service). */
export function errorSpec(code: string): ErrorSpec | undefined {
  return Object.hasOwn(ERRORS, code) ? ERRORS[code as ErrorCode] : undefined;
}

export interface ErrorDetail {
  path?: string;
  message: string;
  [key: string]: unknown;
}

export class ModelsignError extends Error {
  override readonly name = 'ModelsignError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors?: ErrorDetail[],
  ) {
    super(message);
  }
}

export function isModelsignError(value: unknown): value is ModelsignError {
  return value instanceof ModelsignError;
}
