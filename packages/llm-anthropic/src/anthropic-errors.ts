import { AidocError, abortError, type AidocErrorCode } from '@aidoc/core';

/** What the error translation knows about the call that failed. */
export interface AnthropicErrorContext {
  readonly signal: AbortSignal | undefined;
  readonly model: string;
}

/** Connection-level failures seen from undici and Node under a dropped connection. */
const DROPPED_CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const DROPPED_CONNECTION_MESSAGES = new Set(['terminated', 'other side closed', 'fetch failed']);

/** The SDK's error classes without a status, told apart by name so a second SDK copy still maps. */
const ABORT_ERROR_NAME = 'APIUserAbortError';
const TIMEOUT_ERROR_NAME = 'APIConnectionTimeoutError';
const CONNECTION_ERROR_NAME = 'APIConnectionError';

/**
 * Turns whatever the SDK threw into an AidocError with a stable code. The message is built from
 * the status, the API's error `type` and its `message` (never the raw body, the request or model
 * text: the conversation holds a patient record); the SDK error stays as `cause`.
 *
 * | failure | code |
 * |---|---|
 * | the caller's signal fired (`APIUserAbortError`) | `ABORTED` (or the signal's AidocError reason, e.g. core's `TIMEOUT`) |
 * | 429 | `RATE_LIMITED`, `retryAfterMs` from `retry-after-ms` / `retry-after` |
 * | 529 overloaded, 5xx, 409, connection errors, a dropped stream (`terminated`) | `UPSTREAM_UNAVAILABLE` |
 * | 408, 504, the SDK's own timeout (`APIConnectionTimeoutError`) | `TIMEOUT` |
 * | 400, 404, 413, 422 and other 4xx | `INVALID_INPUT` |
 * | 401, 403 (and 402 billing) | `INVALID_INPUT`, naming ANTHROPIC_API_KEY |
 * | an in-stream `event: error` | by its error type |
 */
export function toAnthropicAidocError(error: unknown, context: AnthropicErrorContext): AidocError {
  const { signal } = context;
  if (signal?.aborted === true) return abortError(signal);
  if (AidocError.isInstance(error)) return error;
  const name = error instanceof Error ? error.name : undefined;
  if (name === ABORT_ERROR_NAME) return new AidocError('ABORTED', 'The Anthropic request was aborted', { cause: error });
  if (name === TIMEOUT_ERROR_NAME) {
    return failure('TIMEOUT', 'The Anthropic Messages API did not answer within the client timeout (`timeoutMs`)', error, {});
  }
  if (name === CONNECTION_ERROR_NAME) return failure('UPSTREAM_UNAVAILABLE', 'Could not reach the Anthropic Messages API (connection error)', error, {});
  if (isApiError(error)) return fromApiError(error, context);
  if (isDroppedConnection(error)) {
    return failure('UPSTREAM_UNAVAILABLE', 'The connection to the Anthropic Messages API dropped before the reply was complete', error, {});
  }
  if (error instanceof Error && error.message.startsWith('Streaming is required')) {
    return failure(
      'INVALID_INPUT',
      'The SDK refuses this maxTokens without streaming: leave the `stream` setting unset (the adapter then streams large budgets) or set it to true',
      error,
      {},
      false,
    );
  }
  if (error instanceof SyntaxError) {
    // A garbled body is most likely a transient fault. V8's message quotes the body (model text
    // about a patient), so neither it nor the original error is kept.
    const cause = new SyntaxError('The reply body is not valid JSON (parser message withheld: it quotes the body)');
    return failure('INVALID_OUTPUT', 'The Anthropic Messages API sent a reply that is not valid JSON', cause, {}, true);
  }
  return failure('INTERNAL', `Unexpected failure calling the Anthropic Messages API (${name ?? typeof error})`, error, {});
}

interface ApiErrorLike {
  readonly status: number | undefined;
  readonly error: unknown;
  readonly headers: unknown;
  readonly requestID?: string | null;
}

function isApiError(error: unknown): error is Error & ApiErrorLike {
  return error instanceof Error && 'status' in error && 'error' in error && 'headers' in error;
}

function fromApiError(error: Error & ApiErrorLike, context: AnthropicErrorContext): AidocError {
  const { type, message } = errorBody(error.error);
  const status = error.status;
  const details: Record<string, unknown> = { status, type, requestId: error.requestID ?? undefined };
  const what = [status, type].filter((part) => part !== undefined).join(' ');
  const said = message === undefined ? '' : `: ${message}`;
  const describe = (summary: string): string => `${summary} (${what}${said})`;

  if (status === undefined) return fromStreamErrorType(type, describe, error, details);
  if (status === 429) {
    const retryAfterMs = retryAfterMsOf(error.headers);
    return new AidocError('RATE_LIMITED', describe('The Anthropic Messages API rate-limited the request'), {
      cause: error,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      details: { ...details, retryAfterMs },
    });
  }
  if (status === 401) {
    return failure('INVALID_INPUT', describe('Anthropic rejected the API key: check the `apiKey` setting or ANTHROPIC_API_KEY'), error, details, false);
  }
  if (status === 403) {
    return failure(
      'INVALID_INPUT',
      describe('The Anthropic API key may not do this: check the key in `apiKey` / ANTHROPIC_API_KEY and its access to the model'),
      error,
      details,
      false,
    );
  }
  if (status === 402) return failure('INVALID_INPUT', describe('Anthropic refused the request for billing reasons: check the account behind ANTHROPIC_API_KEY'), error, details, false);
  if (status === 404) {
    return failure('INVALID_INPUT', describe(`The Anthropic Messages API found no such resource: check the \`model\` setting ("${context.model}") and \`baseURL\``), error, details, false);
  }
  if (status === 408 || status === 504) return failure('TIMEOUT', describe('The Anthropic Messages API timed out'), error, details);
  if (status === 529) return failure('UPSTREAM_UNAVAILABLE', describe('The Anthropic Messages API is overloaded'), error, details);
  if (status >= 500 || status === 409) return failure('UPSTREAM_UNAVAILABLE', describe('The Anthropic Messages API failed'), error, details);
  return failure('INVALID_INPUT', describe('The Anthropic Messages API refused the request'), error, details, false);
}

/** An `event: error` inside a stream carries no status, only the error type. */
function fromStreamErrorType(type: string | undefined, describe: (summary: string) => string, error: Error, details: Record<string, unknown>): AidocError {
  const summary = 'The Anthropic stream failed mid-reply';
  switch (type) {
    case 'rate_limit_error':
      return new AidocError('RATE_LIMITED', describe(summary), { cause: error, details });
    case 'timeout_error':
      return failure('TIMEOUT', describe(summary), error, details);
    case 'invalid_request_error':
    case 'not_found_error':
    case 'request_too_large':
      return failure('INVALID_INPUT', describe(summary), error, details, false);
    case 'authentication_error':
    case 'permission_error':
    case 'billing_error':
      return failure('INVALID_INPUT', describe(`${summary}: check the key in \`apiKey\` / ANTHROPIC_API_KEY`), error, details, false);
    default:
      // overloaded_error, api_error and types this version does not know: the upstream's fault.
      return failure('UPSTREAM_UNAVAILABLE', describe(summary), error, details);
  }
}

function failure(code: AidocErrorCode, message: string, cause: unknown, details: Record<string, unknown>, retryable?: boolean): AidocError {
  return new AidocError(code, message, {
    cause,
    ...(retryable === undefined ? {} : { retryable }),
    details: { provider: 'anthropic', ...details },
  });
}

/** `{ type: 'error', error: { type, message } }`; the message trimmed to one short line. */
function errorBody(body: unknown): { type: string | undefined; message: string | undefined } {
  const inner = typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined;
  if (typeof inner !== 'object' || inner === null) return { type: undefined, message: undefined };
  const { type, message } = inner as { type?: unknown; message?: unknown };
  return {
    type: typeof type === 'string' ? type.slice(0, 60) : undefined,
    message: typeof message === 'string' ? oneLine(message, 200) : undefined,
  };
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** `retry-after-ms` (milliseconds) first, then `retry-after` (seconds or an HTTP date). */
export function retryAfterMsOf(headers: unknown, now: number = Date.now()): number | undefined {
  const get = (name: string): string | undefined => {
    if (typeof headers !== 'object' || headers === null) return undefined;
    if (typeof (headers as { get?: unknown }).get === 'function') return (headers as Headers).get(name) ?? undefined;
    const value = (headers as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  };
  const milliseconds = Number.parseFloat(get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.ceil(milliseconds);
  const retryAfter = get('retry-after')?.trim();
  if (retryAfter === undefined || retryAfter === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(date - now, 0);
}

/** A connection dropped under the SDK: undici's `TypeError('terminated')`, a reset, and the like. */
function isDroppedConnection(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { message, code } = current as { message?: unknown; code?: unknown };
    if (typeof message === 'string' && DROPPED_CONNECTION_MESSAGES.has(message)) return true;
    if (typeof code === 'string' && DROPPED_CONNECTION_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
