import { abortError } from '../errors/to-aidoc-error.ts';
import { invalidDelay } from '../errors/validate-option.ts';

/** Throws the signal's abort error (ABORTED, or its AidocError reason such as a TIMEOUT) if it has fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted === true) throw abortError(signal);
}

/**
 * Resolves after `ms` milliseconds, or rejects with `abortError(signal)` as soon as `signal`
 * fires. Whichever happens first clears the other: no timer or listener outlives the promise.
 *
 * @param ms - Delay in milliseconds, `0` to `2_147_483_647` (Node's timer range; longer delays
 * would silently fire after 1 ms, so they reject with a `TypeError`).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  const invalid = invalidDelay('ms', ms);
  if (invalid !== undefined) return Promise.reject(invalid);
  if (signal === undefined) return new Promise((resolve) => setTimeout(resolve, ms));
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A child AbortController tied to a parent signal; see {@link linkSignal}. */
export interface LinkedSignal {
  /** Abort this to cancel the child alone (a timeout, a failed sibling); the parent is untouched. */
  readonly controller: AbortController;
  /** The child signal: fires when the parent fires (with the parent's reason) or on `controller.abort()`. */
  readonly signal: AbortSignal;
  /** Stops following the parent. Call it when the child's work settles; safe to call twice. */
  dispose(): void;
}

const noop = (): void => {};

/**
 * Creates a child signal that follows `parent`. Unlike `AbortSignal.any`, the link is removed
 * explicitly by `dispose()`, so a long-lived parent (a server's shutdown signal, a whole ingest
 * run) does not accumulate one listener per finished child.
 */
export function linkSignal(parent: AbortSignal | undefined): LinkedSignal {
  const controller = new AbortController();
  if (parent === undefined) return { controller, signal: controller.signal, dispose: noop };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, signal: controller.signal, dispose: noop };
  }
  const onAbort = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return {
    controller,
    signal: controller.signal,
    dispose: () => parent.removeEventListener('abort', onAbort),
  };
}

/**
 * Settles like `promise`, or rejects with `abortError(signal)` as soon as `signal` fires,
 * whichever comes first; the listener is removed either way. For work that cannot be cancelled
 * (a client without signal support, a scan other callers share): the caller stops waiting at
 * once while the work runs on. A rejection of `promise` after the abort is absorbed.
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
