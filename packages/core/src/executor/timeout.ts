import { AidocError } from '../errors/aidoc-error.ts';
import { abortError } from '../errors/to-aidoc-error.ts';
import { linkSignal } from './abort.ts';
import { MAX_TIMER_DELAY_MS, invalidOption } from '../errors/validate-option.ts';

export interface TimeoutOptions {
  /** The caller's signal: aborting it aborts `fn` and rejects with ABORTED (or its AidocError reason). */
  signal?: AbortSignal;
  /**
   * Names the operation in the TIMEOUT error's message and details, so a log line says which
   * call was slow.
   * @default 'operation'
   */
  name?: string;
}

/**
 * Runs `fn` with a deadline. `fn` receives a signal that fires when the caller's signal fires or
 * after `timeoutMs`; on timeout its reason is an `AidocError('TIMEOUT')` and the returned promise
 * rejects with that same error at once, even if `fn` ignores its signal (its late outcome is
 * dropped). `fn`'s own errors pass through unchanged.
 *
 * No timer or listener survives settlement.
 *
 * @param timeoutMs - Positive milliseconds (up to Node's timer range), or `Infinity` for no
 * deadline (the caller's signal still applies).
 */
export function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  options?: TimeoutOptions,
): Promise<T> {
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && (timeoutMs <= MAX_TIMER_DELAY_MS || timeoutMs === Infinity))) {
    return Promise.reject(
      invalidOption('timeoutMs', `a positive number of milliseconds up to ${MAX_TIMER_DELAY_MS}, or Infinity`, timeoutMs),
    );
  }
  const parent = options?.signal;
  if (parent?.aborted === true) return Promise.reject(abortError(parent));
  const name = options?.name ?? 'operation';
  const link = linkSignal(parent);
  const inner = link.signal;

  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanUp = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      inner.removeEventListener('abort', onAbort);
      link.dispose();
    };
    // Registered before `fn` runs, so it sees the abort before any of fn's own listeners: the
    // TIMEOUT wins over whatever fn rejects with once it notices.
    const onAbort = (): void => {
      cleanUp();
      reject(abortError(inner));
    };
    inner.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== Infinity) {
      timer = setTimeout(() => {
        timer = undefined;
        link.controller.abort(
          new AidocError('TIMEOUT', `"${name}" timed out after ${timeoutMs} ms`, { details: { name, timeoutMs } }),
        );
      }, timeoutMs);
    }

    let pending: Promise<T>;
    try {
      pending = fn(inner);
    } catch (error) {
      cleanUp();
      throw error; // rejects the promise being constructed
    }
    pending.finally(cleanUp).then(resolve, reject);
  });
}
