// Error codes as problem+json bodies (RFC 9457), with the status core's ERRORS table gives each.
import { ERRORS, type ErrorCode, type ErrorDetail } from '../core/errors.ts';

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
  const status = ERRORS[code].status;
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

export const ERROR_CATALOGUE = (Object.keys(ERRORS) as ErrorCode[]).map((code) => ({ code, status: ERRORS[code].status, description: ERRORS[code].description }));
