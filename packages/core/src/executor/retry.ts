import { AidocErrorCode, type AidocError } from '../errors/aidoc-error.ts';
import { toAidocError } from '../errors/to-aidoc-error.ts';
import type { Span } from '../tracing/span.ts';
import { currentSpan } from '../tracing/trace-context.ts';
import { sleep, throwIfAborted } from './abort.ts';
import { expectDelay, expectOptionalFunction, expectPositiveInteger } from '../errors/validate-option.ts';

/** What `onRetry` learns before each backoff. */
export interface RetryInfo {
  /** The failure of the attempt that just ended. */
  readonly error: AidocError;
  /** The attempt that just failed (1 for the first call). */
  readonly attempt: number;
  /** How long the backoff before the next attempt will be. */
  readonly delayMs: number;
}

export interface RetryOptions {
  /**
   * Maximum number of attempts, including the first. `1` disables retrying.
   * @default 3
   */
  attempts?: number;
  /**
   * Backoff ceiling before the first retry; it doubles with each further attempt.
   * @default 100
   */
  baseDelayMs?: number;
  /**
   * Cap on the exponential backoff (not on a `Retry-After` the upstream asked for).
   * @default 10_000
   */
  maxDelayMs?: number;
  /**
   * The longest `Retry-After` worth waiting for. An upstream that asks for more fails the call
   * at once with its error instead of holding the caller (and a pool slot's worth of work)
   * for minutes.
   * @default 60_000
   */
  maxRetryAfterMs?: number;
  /**
   * Decides whether a failed attempt is retried. ABORTED is never retried, whatever this says.
   * @default (error) => error.retryable
   */
  retryIf?: (error: AidocError, attempt: number) => boolean;
  /**
   * Source of jitter in `[0, 1)`; tests pass a fixed value.
   * @default Math.random
   */
  random?: () => number;
  /** Called before each backoff, for logging and metrics. */
  onRetry?: (info: RetryInfo) => void;
}

export interface WithRetryOptions extends RetryOptions {
  /** Stops retrying: an abort during an attempt or a backoff rejects promptly with ABORTED. */
  signal?: AbortSignal;
  /**
   * The span that receives `attempts` and `backoffMs`.
   * @default currentSpan()
   */
  span?: Span;
}

const DEFAULT_ATTEMPTS = 3;
const DEFAULT_BASE_DELAY_MS = 100;
const DEFAULT_MAX_DELAY_MS = 10_000;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/**
 * Throws a `TypeError` naming the first invalid option. `withRetry` calls it on every call;
 * exported so a task graph can reject bad options when it is built rather than when it runs.
 */
export function validateRetryOptions(options: RetryOptions): void {
  if (options.attempts !== undefined) expectPositiveInteger('attempts', options.attempts);
  if (options.baseDelayMs !== undefined) expectDelay('baseDelayMs', options.baseDelayMs);
  if (options.maxDelayMs !== undefined) expectDelay('maxDelayMs', options.maxDelayMs);
  if (options.maxRetryAfterMs !== undefined) expectDelay('maxRetryAfterMs', options.maxRetryAfterMs);
  expectOptionalFunction('retryIf', options.retryIf);
  expectOptionalFunction('random', options.random);
  expectOptionalFunction('onRetry', options.onRetry);
}

/**
 * Calls `fn` until it succeeds, a failure is not worth retrying, or `attempts` run out.
 *
 * Backoff is exponential with full jitter: before attempt `n + 1` it sleeps
 * `random() * min(maxDelayMs, baseDelayMs * 2 ** (n - 1))`, which spreads a burst of failing
 * callers instead of having them retry in lockstep. When the error carries `retryAfterMs` (a
 * 429 or 503 with `Retry-After`), the sleep is at least that long, since retrying earlier only
 * earns another refusal; above `maxRetryAfterMs` the call fails with that error instead.
 *
 * Failures are normalised with `toAidocError`; the last one is rethrown. ABORTED (and anything
 * thrown once `signal` has fired) is never retried. Records `attempts` and `backoffMs` (time
 * actually slept) into the span.
 */
export async function withRetry<T>(
  fn: (attempt: number, signal: AbortSignal | undefined) => Promise<T>,
  options: WithRetryOptions = {},
): Promise<T> {
  validateRetryOptions(options);
  const {
    attempts = DEFAULT_ATTEMPTS,
    baseDelayMs = DEFAULT_BASE_DELAY_MS,
    maxDelayMs = DEFAULT_MAX_DELAY_MS,
    maxRetryAfterMs = DEFAULT_MAX_RETRY_AFTER_MS,
    retryIf,
    random = Math.random,
    onRetry,
    signal,
  } = options;
  const span = options.span ?? currentSpan();

  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    if (span !== undefined) span.attempts += 1;
    let error: AidocError;
    try {
      return await fn(attempt, signal);
    } catch (thrown) {
      // Once the caller has aborted, whatever fn threw (often a transport error) is an abort.
      throwIfAborted(signal);
      error = toAidocError(thrown);
    }
    if (attempt >= attempts || error.code === AidocErrorCode.ABORTED) throw error;
    if (!(retryIf === undefined ? error.retryable : retryIf(error, attempt))) throw error;

    let delayMs = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const retryAfterMs = error.retryAfterMs;
    // `> 0` also skips NaN from a malformed header.
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      if (retryAfterMs > maxRetryAfterMs) throw error;
      delayMs = Math.max(delayMs, retryAfterMs);
    }
    onRetry?.({ error, attempt, delayMs });
    if (span === undefined) {
      await sleep(delayMs, signal);
    } else {
      const sleptFrom = performance.now();
      try {
        await sleep(delayMs, signal);
      } finally {
        span.backoffMs += performance.now() - sleptFrom;
      }
    }
  }
}
