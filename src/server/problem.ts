// The one place where error codes become HTTP statuses and problem+json bodies (RFC 9457).
import { ERROR_CODES, type ErrorCode, type ErrorDetail } from '../core/errors.ts';

const STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  invalid_json: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  invalid_path: 400,
  duplicate_path: 400,
  invalid_content_check: 400,
  invisible_character: 400,
  invalid_model_name: 400,
  invalid_version: 400,
  invalid_namespace: 400,
  invalid_algorithm: 400,
  invalid_duration: 400,
  token_missing: 401,
  token_malformed: 401,
  token_invalid: 401,
  token_expired: 401,
  token_revoked: 401,
  publisher_disabled: 401,
  forbidden_role: 403,
  forbidden_namespace: 403,
  not_found: 404,
  route_not_found: 404,
  release_conflict: 409,
  publisher_exists: 409,
  namespace_taken: 409,
  publisher_unknown: 404,
  invalid_token_request: 400,
  rotation_conflict: 409,
  key_already_revoked: 409,
  invalid_compromise_time: 400,
  log_range_invalid: 400,
  request_timeout: 408,
  headers_too_large: 431,
  malformed_request: 400,
  rate_limited: 429,
  key_unavailable: 503,
  kek_mismatch: 503,
  key_backend_unavailable: 503,
  unavailable: 503,
  database_busy: 503,
  database_read_only: 503,
  invalid_trusted_publisher: 400,
  invalid_oidc_issuer: 422,
  oidc_issuer_exists: 409,
  oidc_issuer_in_use: 409,
  oidc_token_malformed: 400,
  oidc_issuer_unknown: 401,
  oidc_token_invalid: 401,
  oidc_token_expired: 401,
  oidc_token_reused: 409,
  invalid_publisher: 403,
  oidc_keys_unavailable: 503,
  internal_error: 500,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: ErrorDetail[];
}

export function problem(code: ErrorCode, detail: string, extra: { instance?: string; requestId?: string; errors?: ErrorDetail[] } = {}): Problem {
  const status = STATUS[code];
  return {
    type: `/docs#${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
    ...(extra.instance !== undefined ? { instance: extra.instance } : {}),
    ...(extra.requestId !== undefined ? { requestId: extra.requestId } : {}),
    ...(extra.errors && extra.errors.length > 0 ? { errors: extra.errors.slice(0, 50) } : {}),
  };
}

export const ERROR_CATALOGUE = Object.entries(ERROR_CODES).map(([code, description]) => ({
  code: code as ErrorCode,
  status: STATUS[code as ErrorCode],
  description,
}));
