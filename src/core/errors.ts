// The one error type of modelsign. Every failure a caller can act on carries a stable `code`;
// the HTTP layer maps codes to statuses in one place (src/server/problem.ts) and the CLI maps
// them to exit codes. Messages say what to fix; they never include secrets.

export const ERROR_CODES = {
  validation_failed: 'The request does not match the API schema; `errors` lists each problem.',
  invalid_json: 'The request body is not valid JSON.',
  unsupported_media_type: 'The request body must be application/json.',
  payload_too_large: 'The request body is larger than this route accepts.',
  invalid_path: 'A manifest path breaks the path rules (relative POSIX, NFC, no `..`, `.`, empty segments, control characters).',
  duplicate_path: 'The same path appears twice in a manifest.',
  invisible_character:
    'A manifest or ignore path holds an invisible or bidirectional format character (Unicode Cf, Zl, Zp or Default_Ignorable_Code_Point; `codePoints` names them as U+XXXX), which would display a name other than the one signed.',
  invalid_content_check: 'The request\'s content check names a file that is not in the manifest, or names one twice.',
  invalid_model_name: 'The model name is not `namespace/name` with the allowed characters.',
  invalid_version: 'The version has characters or a length that are not allowed.',
  invalid_namespace: 'A namespace has characters or a length that are not allowed.',
  invalid_algorithm: 'A signing algorithm is not one of ed25519, ecdsa-p256.',
  invalid_duration: 'A duration is not a number followed by s, m, h or d, or is out of range.',
  token_missing: 'The route needs a bearer token in the Authorization header.',
  token_malformed: 'The Authorization header or the token in it is not a well-formed bearer JWT.',
  token_invalid: 'The token is not one this service issued (bad signature, unknown key, wrong issuer or claims).',
  token_expired: 'The token has expired; ask an admin for a new one.',
  token_revoked: 'The token has been revoked.',
  publisher_disabled: 'The publisher this token belongs to is disabled.',
  forbidden_role: 'The token\'s role may not use this route.',
  forbidden_namespace: 'The publisher does not own the namespace of this model.',
  not_found: 'No such resource.',
  route_not_found: 'No such route.',
  release_conflict: 'This model version is already signed with a different manifest; releases are immutable.',
  publisher_exists: 'A publisher with this name already exists.',
  namespace_taken: 'A namespace is already owned by another publisher.',
  publisher_unknown: 'No publisher with this id or name.',
  invalid_token_request: 'The token request does not fit the role (a publisher token needs a publisher, others a subject).',
  rotation_conflict: 'The active key is no longer the one the request expected: it was rotated meanwhile.',
  key_already_revoked: 'The key is already revoked.',
  invalid_compromise_time: 'compromisedAt is in the future or before the key existed.',
  log_range_invalid: 'A log index, tree size or range is outside the signed log (or its bounds are reversed).',
  request_timeout: 'The request did not arrive in full within the request timeout.',
  headers_too_large: 'The request headers are larger than the service accepts.',
  malformed_request: 'The bytes received are not a valid HTTP/1.1 request.',
  rate_limited: 'Too many requests from this client address or token; wait for the number of seconds in Retry-After.',
  key_unavailable: 'No usable key of the needed purpose; the service is not ready.',
  kek_mismatch: 'The configured KEK does not decrypt the stored keys.',
  key_backend_unavailable: 'The hardware token (PKCS#11) holding the signing key cannot sign now: lookups and verification work, signing does not; try again after Retry-After.',
  unavailable: 'The database is unreachable, starting, shutting down, in recovery or out of connections; try again after Retry-After.',
  database_busy: 'The database did not answer in time (statement or connection wait past its limit); try again after Retry-After.',
  database_read_only: 'The database accepts only reads (a standby after failover, or set read-only): lookups and verification work, signing and admin changes do not; try again after Retry-After.',
  invalid_trusted_publisher: 'A trusted-publisher rule is incomplete or malformed, or names a namespace its publisher does not own; the message says which field.',
  invalid_oidc_issuer: 'The OIDC issuer cannot be used: not an https URL (http needs MODELSIGN_OIDC_ALLOW_INSECURE=1), its discovery document could not be fetched, or it names another issuer.',
  oidc_issuer_exists: 'An OIDC issuer with this URL is already configured.',
  oidc_issuer_in_use: 'Trusted-publisher rules still use this issuer; delete them first.',
  oidc_token_malformed: 'The ID token is not a compact JWS with a JSON header and claims.',
  oidc_issuer_unknown: 'The ID token\'s issuer (`iss`) is not one an admin configured; nothing was fetched from it.',
  oidc_token_invalid: 'The ID token does not verify: algorithm not allowed, no or unknown `kid`, bad signature, a required claim (`iss aud exp iat jti`) missing or not of its type, or `aud` not exactly this service\'s audience (GET /v1/oidc/audience).',
  oidc_token_expired: 'The ID token is expired, not yet valid, issued in the future, or older than its issuer\'s maximum age; request a fresh one.',
  oidc_token_reused: 'This ID token (its issuer and jti) has been exchanged already; each is exchanged once.',
  invalid_publisher: 'No trusted-publisher rule allows this ID token (the message names the failing condition only when the token\'s repository or project has a rule).',
  oidc_keys_unavailable: 'The issuer\'s signing keys (JWKS) could not be fetched and none are known; try again after Retry-After.',
  internal_error: 'An unexpected error; it has been logged with the request id.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

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
