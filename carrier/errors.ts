/**
 * Every carrier failure is classified once, here, so activities can tell Temporal whether
 * retrying can help. Messages never include request bodies, headers or tokens.
 */
export type CarrierErrorCode =
  | 'INVALID_CLIENT' // wrong client_id/client_secret: an admin must fix the credentials
  | 'FORBIDDEN'
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'RATE_LIMITED'
  | 'SERVER_ERROR'
  | 'TIMEOUT'
  | 'NETWORK'
  | 'MALFORMED_BODY' // not JSON, truncated, or not the content type we asked for
  | 'UNEXPECTED_SHAPE' // JSON, but not what the API documents
  | 'REPEATED_PAGE';

const RETRYABLE: ReadonlySet<CarrierErrorCode> = new Set([
  'RATE_LIMITED',
  'SERVER_ERROR',
  'TIMEOUT',
  'NETWORK',
  'MALFORMED_BODY',
  'REPEATED_PAGE',
  'UNAUTHORIZED',
]);

export class CarrierError extends Error {
  override name = 'CarrierError';
  readonly retryable: boolean;

  constructor(
    readonly code: CarrierErrorCode,
    readonly endpoint: string,
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(`${endpoint}: ${message}`);
    this.retryable = RETRYABLE.has(code);
  }
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function classifyStatus(status: number): CarrierErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 500) return 'SERVER_ERROR';
  return 'BAD_REQUEST';
}
