import { AidocError, toAidocError } from '@aidoc/core';

/** What the error messages name: where the call went. */
export interface VertexCallContext {
  readonly project: string;
  readonly location: string;
  readonly model: string;
}

/** gRPC status codes (google-gax `Status`), which `GoogleError.code` carries on both transports. */
const Status = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const STATUS_NAMES = new Map<number, string>(Object.entries(Status).map(([name, code]) => [code, name]));

/** Socket errors that mean the upstream could not be reached or dropped the connection. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Upstream messages are kept short in ours (they can be long HTML pages from a proxy). */
const MAX_UPSTREAM_MESSAGE = 300;

/** The fields of a google-gax `GoogleError` (or a gRPC `ServiceError`) this mapping reads. */
interface GoogleErrorFields {
  readonly code?: unknown;
  readonly httpStatusCode?: unknown;
  readonly message?: unknown;
  readonly statusDetails?: unknown;
  readonly details?: unknown;
  readonly cause?: unknown;
}

/**
 * Maps a failed `predict` (a google-gax `GoogleError`: `code` is the gRPC status, and on the REST
 * transport `httpStatusCode` the HTTP one) to an AidocError:
 *
 * | upstream | code |
 * |---|---|
 * | 8 RESOURCE_EXHAUSTED, HTTP 429 | RATE_LIMITED, `retryAfterMs` from a `google.rpc.RetryInfo` detail when the error has one |
 * | 14 UNAVAILABLE, 13 INTERNAL, 2 UNKNOWN, 10 ABORTED, 15 DATA_LOSS, 1 CANCELLED (not ours), HTTP 5xx, connection refused or reset | UPSTREAM_UNAVAILABLE |
 * | 4 DEADLINE_EXCEEDED, HTTP 504 | TIMEOUT |
 * | 3 INVALID_ARGUMENT, 9 FAILED_PRECONDITION, 11 OUT_OF_RANGE, 12 UNIMPLEMENTED | INVALID_INPUT |
 * | 5 NOT_FOUND | NOT_FOUND (model, project or location) |
 * | 7 PERMISSION_DENIED, 16 UNAUTHENTICATED | INVALID_INPUT naming the credential settings |
 * | anything else | INTERNAL, the original kept as `cause` |
 *
 * google-gax does not expose HTTP response headers on its errors, so a `Retry-After` header
 * cannot be read; only a `RetryInfo` detail in the error body gives `retryAfterMs`.
 */
export function toVertexError(error: unknown, context: VertexCallContext): AidocError {
  if (AidocError.isInstance(error)) return error;
  if (typeof error !== 'object' || error === null) return toAidocError(error, 'Vertex AI predict failed');
  const fields = error as GoogleErrorFields;
  const httpStatus = typeof fields.httpStatusCode === 'number' ? fields.httpStatusCode : undefined;
  const grpcCode = typeof fields.code === 'number' ? fields.code : statusFromHttp(httpStatus);
  const upstream = describeUpstream(fields, grpcCode, httpStatus);
  const details = { provider: 'vertex', model: context.model, location: context.location, grpcCode, httpStatus };
  const options = { cause: error, details };
  switch (grpcCode) {
    case Status.RESOURCE_EXHAUSTED:
      return new AidocError('RATE_LIMITED', `Vertex AI rate limited the request (${upstream})`, {
        ...options,
        retryAfterMs: retryDelayMs(fields),
      });
    case Status.UNAVAILABLE:
    case Status.INTERNAL:
    case Status.UNKNOWN:
    case Status.ABORTED:
    case Status.DATA_LOSS:
    case Status.CANCELLED:
      return new AidocError('UPSTREAM_UNAVAILABLE', `Vertex AI is unavailable (${upstream})`, options);
    case Status.DEADLINE_EXCEEDED:
      return new AidocError('TIMEOUT', `Vertex AI did not answer in time (${upstream})`, options);
    case Status.INVALID_ARGUMENT:
    case Status.FAILED_PRECONDITION:
    case Status.OUT_OF_RANGE:
    case Status.UNIMPLEMENTED:
      return new AidocError('INVALID_INPUT', `Vertex AI refused the request (${upstream})`, options);
    case Status.NOT_FOUND:
      return new AidocError(
        'NOT_FOUND',
        `Vertex AI found no model \`${context.model}\` for project \`${context.project}\` in \`${context.location}\`; check the model, project (GOOGLE_CLOUD_PROJECT) and location (GOOGLE_CLOUD_LOCATION) settings (${upstream})`,
        options,
      );
    case Status.PERMISSION_DENIED:
    case Status.UNAUTHENTICATED:
      return credentialsError(`Vertex AI refused the credentials for project \`${context.project}\` (${upstream})`, options);
    default:
      break;
  }
  if (isConnectionFailure(error)) {
    return new AidocError('UPSTREAM_UNAVAILABLE', `Vertex AI could not be reached (${upstream})`, options);
  }
  return toAidocError(error, 'Vertex AI predict failed');
}

/**
 * The error for a client that could not be set up: google-auth-library found no usable
 * credentials (a missing key file, no Application Default Credentials). Not retryable.
 */
export function toClientSetupError(error: unknown, context: VertexCallContext): AidocError {
  if (AidocError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return credentialsError(`Could not set up the Vertex AI client for project \`${context.project}\`: ${shorten(message)}`, {
    cause: error,
    details: { provider: 'vertex', model: context.model, location: context.location },
  });
}

function credentialsError(message: string, options: { cause: unknown; details: Record<string, unknown> }): AidocError {
  return new AidocError(
    'INVALID_INPUT',
    `${message}. Check the credentials: the GOOGLE_APPLICATION_CREDENTIALS environment variable (or Application Default Credentials), ` +
      '`clientOptions.credentials` / `keyFilename` / `authClient`, or the injected `client`; the account needs the Vertex AI User role ' +
      '(aiplatform.endpoints.predict) in the project',
    { ...options, retryable: false },
  );
}

/** google-gax's own HTTP to gRPC table, for an error that carries only the HTTP status. */
function statusFromHttp(httpStatus: number | undefined): number | undefined {
  switch (httpStatus) {
    case undefined:
      return undefined;
    case 400:
      return Status.INVALID_ARGUMENT;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.NOT_FOUND;
    case 409:
      return Status.ABORTED;
    case 429:
      return Status.RESOURCE_EXHAUSTED;
    case 501:
      return Status.UNIMPLEMENTED;
    case 503:
      return Status.UNAVAILABLE;
    case 504:
      return Status.DEADLINE_EXCEEDED;
    default:
      if (httpStatus >= 500) return Status.INTERNAL;
      return httpStatus >= 400 ? Status.FAILED_PRECONDITION : Status.UNKNOWN;
  }
}

/** "8 RESOURCE_EXHAUSTED, HTTP 429: Quota exceeded for ..." */
function describeUpstream(fields: GoogleErrorFields, grpcCode: number | undefined, httpStatus: number | undefined): string {
  const parts: string[] = [];
  if (grpcCode !== undefined) parts.push(`${grpcCode} ${STATUS_NAMES.get(grpcCode) ?? 'UNKNOWN_STATUS'}`);
  if (httpStatus !== undefined) parts.push(`HTTP ${httpStatus}`);
  const message = typeof fields.message === 'string' && fields.message !== '' ? `: ${shorten(fields.message)}` : '';
  return `${parts.length === 0 ? 'no status' : parts.join(', ')}${message}`;
}

function shorten(message: string): string {
  return message.length > MAX_UPSTREAM_MESSAGE ? `${message.slice(0, MAX_UPSTREAM_MESSAGE)}…` : message;
}

function isConnectionFailure(error: object): boolean {
  for (let current: unknown = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_ERRORS.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The delay a `google.rpc.RetryInfo` detail asks for, in milliseconds. google-gax decodes the
 * details of an HTTP error body into `statusDetails` (`{ retryDelay: { seconds, nanos } }`) and
 * keeps the raw JSON ones in `details` (`{ '@type': '...RetryInfo', retryDelay: '2.500s' }`).
 */
function retryDelayMs(fields: GoogleErrorFields): number | undefined {
  const candidates = [...asList(fields.statusDetails), ...asList(fields.details)];
  for (const detail of candidates) {
    if (typeof detail !== 'object' || detail === null || !('retryDelay' in detail)) continue;
    const milliseconds = durationMs(detail.retryDelay);
    if (milliseconds !== undefined) return milliseconds;
  }
  return undefined;
}

/** A protobuf `Duration` as JSON (`"2.5s"`) or as a message (`{ seconds: '2' | 2 | Long, nanos }`). */
function durationMs(duration: unknown): number | undefined {
  let seconds: number;
  if (typeof duration === 'string') {
    const match = /^(\d+(?:\.\d+)?)s$/.exec(duration);
    if (match === null) return undefined;
    seconds = Number(match[1]);
  } else if (typeof duration === 'object' && duration !== null) {
    const { seconds: whole, nanos } = duration as { seconds?: unknown; nanos?: unknown };
    seconds = toNumber(whole ?? 0) + toNumber(nanos ?? 0) / 1e9;
  } else {
    return undefined;
  }
  return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined;
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  // protobufjs represents int64 as a Long when the long library is present.
  if (typeof value === 'object' && value !== null && 'toNumber' in value && typeof value.toNumber === 'function') {
    return Number((value as { toNumber: () => unknown }).toNumber());
  }
  return Number.NaN;
}

function asList(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}
