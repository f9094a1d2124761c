import { AidocError, AidocErrorCode } from './aidoc-error.ts';

/**
 * Normalises anything thrown into an AidocError, so callers switch on one `code`.
 * An abort (the DOM `AbortError`, or a signal's reason) becomes ABORTED; anything unknown
 * becomes INTERNAL with the original kept as `cause`.
 */
export function toAidocError(error: unknown, fallbackMessage = 'Unexpected failure'): AidocError {
  if (AidocError.isInstance(error)) return error;
  if (isTimeoutLike(error)) {
    return new AidocError(AidocErrorCode.TIMEOUT, 'The operation timed out', { cause: error });
  }
  if (isAbortLike(error)) {
    return new AidocError(AidocErrorCode.ABORTED, 'The operation was aborted', { cause: error });
  }
  const message = error instanceof Error ? error.message : fallbackMessage;
  return new AidocError(AidocErrorCode.INTERNAL, message, { cause: error });
}

/** The error to reject with when `signal` fires: its reason if that is already an AidocError. */
export function abortError(signal: AbortSignal): AidocError {
  const reason: unknown = signal.reason;
  if (AidocError.isInstance(reason)) return reason;
  // `AbortSignal.timeout(ms)` aborts with a TimeoutError: a deadline, not a cancellation.
  if (isTimeoutLike(reason)) return new AidocError(AidocErrorCode.TIMEOUT, 'The operation timed out', { cause: reason });
  return new AidocError(AidocErrorCode.ABORTED, 'The operation was aborted', { cause: reason });
}

function isAbortLike(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    error.name === 'AbortError'
  );
}

function isTimeoutLike(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'name' in error && error.name === 'TimeoutError';
}
