import { AidocError, toAidocError, type AidocErrorCode } from '@aidoc/core';

/** Which call failed, for the error's message and details. */
export interface QdrantCallContext {
  /** The adapter method and Qdrant operation, e.g. `query (POST /points/query)`. */
  readonly operation: string;
  readonly collection?: string;
}

/** Network failures of Node's fetch (undici) that mean "Qdrant could not be reached or went away". */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Maps what @qdrant/js-client-rest 1.19 throws onto AidocError codes. The SDK does not retry, and
 * neither does the adapter: core retries TIMEOUT, RATE_LIMITED and UPSTREAM_UNAVAILABLE.
 *
 * - `QdrantClientResourceExhaustedError` (a 429 with `retry-after`) → RATE_LIMITED with
 *   `retryAfterMs`. SDK 1.19 keeps only the header's first character (`headers.get(..)?.[0]`),
 *   so `retry-after: 30` arrives as 3 s; a 429 with an HTTP-date `retry-after` makes the SDK throw
 *   a bare `Invalid retryAfter value` error, still RATE_LIMITED here (without `retryAfterMs`).
 * - the SDK's `ApiError` (any other non-2xx, `status`, `data.status.error`, `headers`): 429 →
 *   RATE_LIMITED, 404 → NOT_FOUND, 408 → TIMEOUT, 401/403 → INVALID_INPUT (the API key),
 *   other 4xx → INVALID_INPUT, 5xx → UPSTREAM_UNAVAILABLE.
 * - `QdrantClientTimeoutError` (an injected client's own timeout) → TIMEOUT.
 * - `TypeError('fetch failed')` (refused, reset before the answer) and `TypeError('terminated')`
 *   (the connection died mid-answer) → UPSTREAM_UNAVAILABLE.
 * - a body that is not JSON (`SyntaxError`) or an unexpected 2xx → INVALID_OUTPUT.
 */
export function toQdrantAidocError(error: unknown, context: QdrantCallContext): AidocError {
  if (AidocError.isInstance(error)) return error;
  const where = `Qdrant ${context.operation}${context.collection === undefined ? '' : ` on collection "${context.collection}"`}`;
  const details = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ operation: context.operation, collection: context.collection, ...extra });
  const name = error instanceof Error ? error.name : undefined;
  const message = error instanceof Error ? error.message : String(error);

  if (name === 'QdrantClientResourceExhaustedError') {
    const seconds = (error as { retry_after?: unknown }).retry_after;
    const retryAfterMs = typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
    return new AidocError('RATE_LIMITED', `${where} was rate limited (429)`, { cause: error, retryAfterMs, details: details({ status: 429 }) });
  }
  if (name === 'CustomError' && message.startsWith('Invalid retryAfter value')) {
    return new AidocError('RATE_LIMITED', `${where} was rate limited (429, unreadable retry-after)`, { cause: error, details: details({ status: 429 }) });
  }
  if (name === 'QdrantClientTimeoutError') return new AidocError('TIMEOUT', `${where} timed out (the client's timeout)`, { cause: error, details: details() });
  if (name === 'QdrantClientUnexpectedResponseError') return new AidocError('INVALID_OUTPUT', `${where}: ${message}`, { cause: error, details: details() });
  if (name === 'QdrantClientConfigError') return new AidocError('INVALID_INPUT', `${where}: ${message}`, { cause: error, details: details() });

  const status = httpStatus(error);
  if (status !== undefined) {
    const reason = upstreamMessage(error) ?? message;
    const code = codeForStatus(status);
    const hint = status === 401 || status === 403 ? ' (check `apiKey` / QDRANT_API_KEY)' : '';
    const retryAfterMs = status === 429 ? parseRetryAfter(headerOf(error, 'retry-after')) : undefined;
    return new AidocError(code, `${where} failed with ${status}: ${reason}${hint}`, { cause: error, retryAfterMs, details: details({ status }) });
  }
  if (error instanceof SyntaxError) return new AidocError('INVALID_OUTPUT', `${where} answered a body that is not JSON: ${message}`, { cause: error, details: details() });
  if (isConnectionFailure(error)) {
    return new AidocError('UPSTREAM_UNAVAILABLE', `${where} could not complete: ${describeConnectionFailure(error)}`, { cause: error, details: details() });
  }
  const fallback = toAidocError(error, `${where} failed`);
  return fallback.code === 'ABORTED' ? fallback : new AidocError(fallback.code, `${where} failed: ${fallback.message}`, { cause: error, details: details() });
}

function codeForStatus(status: number): AidocErrorCode {
  if (status === 429) return 'RATE_LIMITED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 408) return 'TIMEOUT';
  if (status >= 400 && status < 500) return 'INVALID_INPUT';
  if (status >= 500) return 'UPSTREAM_UNAVAILABLE';
  return 'INVALID_OUTPUT';
}

/** The HTTP status of the SDK's `ApiError` (duck-typed: the class lives in a transitive dependency). */
export function httpStatus(error: unknown): number | undefined {
  if (!(error instanceof Error) || !('status' in error) || !('data' in error)) return undefined;
  return typeof error.status === 'number' ? error.status : undefined;
}

/** Qdrant's own words: `{ status: { error } }`. */
function upstreamMessage(error: unknown): string | undefined {
  const data = (error as { data?: unknown }).data;
  if (typeof data === 'string' && data !== '') return data.slice(0, 500);
  if (typeof data !== 'object' || data === null) return undefined;
  const status = (data as { status?: unknown }).status;
  const text = typeof status === 'object' && status !== null ? (status as { error?: unknown }).error : undefined;
  return typeof text === 'string' ? text : undefined;
}

function headerOf(error: unknown, name: string): string | undefined {
  const headers = (error as { headers?: unknown }).headers;
  return headers instanceof Headers ? (headers.get(name) ?? undefined) : undefined;
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function isConnectionFailure(error: unknown): error is TypeError {
  if (!(error instanceof TypeError)) return false;
  if (error.message === 'fetch failed' || error.message === 'terminated') return true;
  const code = causeCode(error);
  return code !== undefined && CONNECTION_CODES.has(code);
}

function causeCode(error: Error): string | undefined {
  const cause = error.cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function describeConnectionFailure(error: TypeError): string {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  const code = causeCode(error);
  return `${error.message}${code === undefined ? '' : ` (${code})`}${cause}`;
}
