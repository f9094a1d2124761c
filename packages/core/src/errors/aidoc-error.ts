/**
 * Stable error codes. Applications switch on these (map them to HTTP statuses, decide whether to
 * retry); they never change meaning between versions.
 */
export const AidocErrorCode = {
  /** A call or task ran past its deadline. Retryable: the next attempt may be faster. */
  TIMEOUT: 'TIMEOUT',
  /** The caller's AbortSignal fired. Never retried. */
  ABORTED: 'ABORTED',
  /** The upstream refused for quota reasons; carries `retryAfterMs` when the upstream said. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The upstream failed or could not be reached (5xx, connection reset). Retryable. */
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  /** The caller passed something invalid (bad id, bad option). Never retried. */
  INVALID_INPUT: 'INVALID_INPUT',
  /** An upstream (or a model) returned something that does not match its contract. */
  INVALID_OUTPUT: 'INVALID_OUTPUT',
  /** The requested entity does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** A task graph's dependencies form a cycle; found when the graph is built. */
  CYCLE: 'CYCLE',
  /** A task names a dependency that is not in its graph; found when the graph is built. */
  UNKNOWN_DEPENDENCY: 'UNKNOWN_DEPENDENCY',
  /** The agent loop used all its turns without a final answer. */
  MAX_TURNS_EXCEEDED: 'MAX_TURNS_EXCEEDED',
  /** The vector collection is missing or empty: run ingestion first. */
  COLLECTION_EMPTY: 'COLLECTION_EMPTY',
  /** Another writer holds the resource (e.g. a file-backed store's writer lock). */
  LOCKED: 'LOCKED',
  /** Stored data failed its integrity check (a torn or damaged file); nothing was loaded from it. */
  DATA_CORRUPTED: 'DATA_CORRUPTED',
  /** Something blocked the event loop past the monitor's threshold (monitor `throw` mode). */
  EVENT_LOOP_BLOCKED: 'EVENT_LOOP_BLOCKED',
  /** A bug or an unclassified failure. The `cause` holds the original error. */
  INTERNAL: 'INTERNAL',
} as const;

export type AidocErrorCode = (typeof AidocErrorCode)[keyof typeof AidocErrorCode];

const RETRYABLE_BY_DEFAULT: ReadonlySet<AidocErrorCode> = new Set([
  AidocErrorCode.TIMEOUT,
  AidocErrorCode.RATE_LIMITED,
  AidocErrorCode.UPSTREAM_UNAVAILABLE,
]);

/** Marks instances so `isInstance` works across duplicate copies of this package. */
const MARKER = Symbol.for('@aidoc/core/AidocError');

export interface AidocErrorOptions {
  /** The underlying error, kept for debugging; never shown to end users. */
  cause?: unknown;
  /** Overrides the code's default (TIMEOUT, RATE_LIMITED and UPSTREAM_UNAVAILABLE retry). */
  retryable?: boolean;
  /** How long the upstream asked us to wait before trying again (from `Retry-After`). */
  retryAfterMs?: number;
  /** Machine-readable context (an id, a cycle). Never patient data beyond an id. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error type every @aidoc package throws. Switch on `code`; check with
 * `AidocError.isInstance(error)` rather than `instanceof`, which fails when two copies of
 * `@aidoc/core` are installed.
 */
export class AidocError extends Error {
  override readonly name = 'AidocError';
  readonly code: AidocErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: AidocErrorCode, message: string, options: AidocErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for any AidocError, including one thrown by another copy of this package. */
  static isInstance(value: unknown): value is AidocError {
    return typeof value === 'object' && value !== null && MARKER in value;
  }

  /** True when `value` is an AidocError with the given code. */
  static hasCode(value: unknown, code: AidocErrorCode): value is AidocError {
    return AidocError.isInstance(value) && value.code === code;
  }
}
