import { abortError } from '@aidoc/core';

/**
 * Settles like `promise`, or rejects with ABORTED as soon as `signal` fires. The work itself goes
 * on (a scan holding its collection, a durable write other callers wait for); only this caller
 * stops waiting. The listener is removed when either side settles.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
  });
}
