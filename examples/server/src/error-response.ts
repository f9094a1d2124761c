import { AidocError } from '@aidoc/core';

/** The JSON body of every error response and of the SSE `error` event. */
export interface ErrorBody {
  readonly code: string;
  readonly message: string;
}

/** How one failure is answered: status, body, and the `Retry-After` seconds when the upstream asked. */
export interface ErrorResponse {
  readonly status: number;
  readonly body: ErrorBody;
  readonly retryAfterSeconds: number | undefined;
}

const GENERIC_MESSAGE = 'The server could not complete the request';

/** Upstream trouble the client may retry later. */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set(['RATE_LIMITED', 'UPSTREAM_UNAVAILABLE', 'COLLECTION_EMPTY', 'TIMEOUT']);

/** Fastify's own client errors (body too large, bad JSON, unsupported media type) by status. */
const CLIENT_ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'INVALID_INPUT',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

const CLIENT_ERROR_MESSAGES: Readonly<Record<string, string>> = {
  INVALID_INPUT: 'The request is malformed',
  PAYLOAD_TOO_LARGE: 'The request body is too large',
  UNSUPPORTED_MEDIA_TYPE: 'Send application/json or no body',
};

/**
 * Maps a failure to its HTTP answer. AidocError codes keep their (id-only) messages for client
 * and availability errors; everything else becomes a 500 with a generic message, so no stack,
 * cause or upstream text (which may quote patient data) reaches a client.
 */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (AidocError.isInstance(error)) {
    const retryAfterSeconds = error.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(error.retryAfterMs / 1000));
    if (error.code === 'INVALID_INPUT') return respond(400, error.code, error.message);
    if (error.code === 'NOT_FOUND') return respond(404, error.code, error.message);
    if (UNAVAILABLE_CODES.has(error.code)) return respond(503, error.code, error.message, retryAfterSeconds);
    return respond(500, error.code, GENERIC_MESSAGE);
  }
  const status = statusOf(error);
  const code = status === undefined ? undefined : CLIENT_ERROR_CODES[status];
  if (status !== undefined && code !== undefined) return respond(status, code, CLIENT_ERROR_MESSAGES[code] ?? 'The request cannot be served');
  return respond(500, 'INTERNAL', GENERIC_MESSAGE);
}

/** The message an SSE `error` event may carry for `code` (same rules as the JSON responses). */
export function publicMessage(code: string, message: string): string {
  return code === 'INVALID_INPUT' || code === 'NOT_FOUND' || UNAVAILABLE_CODES.has(code) ? message : GENERIC_MESSAGE;
}

function respond(status: number, code: string, message: string, retryAfterSeconds?: number): ErrorResponse {
  return { status, body: { code, message }, retryAfterSeconds };
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('statusCode' in error)) return undefined;
  const { statusCode } = error;
  // The static files refuse a directory (`/assets/`) or a hidden path with 403: to a client it
  // is simply not there.
  if (statusCode === 403) return 404;
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500 ? statusCode : undefined;
}
