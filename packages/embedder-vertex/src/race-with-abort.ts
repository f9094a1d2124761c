import { abortError } from '@aidoc/core';

/**
 * Settles with `promise`, or rejects with `abortError(signal)` as soon as `signal` fires, whichever
 * comes first; the listener is removed either way. For steps the client cannot cancel (loading
 * credentials, fetching a token), so an abort is prompt whatever the client is doing. A
 * rejection of `promise` after the abort is absorbed (never an unhandled rejection).
 */
export function raceWithAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
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
