import { abortError } from '../errors/to-aidoc-error.ts';

export interface CoalesceOptions {
  /**
   * This caller's signal. Aborting it rejects this caller at once with ABORTED; the shared call
   * is aborted only when every caller waiting on it has aborted.
   */
  signal?: AbortSignal;
}

/** One shared call and the number of callers that could still want its result. */
interface Flight<V> {
  readonly promise: Promise<V>;
  readonly controller: AbortController;
  /** Callers still waiting; a caller without a signal can never leave, so it pins the call. */
  waiting: number;
}

/**
 * Collapses identical concurrent calls into one: while a call for `key` is in flight, further
 * `run(key, ...)` calls wait on it instead of starting their own (e.g. ten requests for the same
 * patient record cause one database read). Only in-flight calls are shared; the key is released
 * when the call settles, so a failure is never served to later callers (pair with `TtlCache` to
 * keep successes).
 *
 * The shared call runs with its own signal, which aborts only when every waiting caller has
 * aborted; one impatient caller cannot cancel the work the others still wait for.
 */
export class Coalescer<V> {
  readonly #flights = new Map<string, Flight<V>>();

  /** Keys with a call in flight. */
  get inFlight(): number {
    return this.#flights.size;
  }

  /**
   * Joins the call in flight for `key`, or starts `fn` as that call. `fn` is ignored when a
   * call is already in flight, so it must do the same thing for the same key. The shared call's
   * outcome (value or error) reaches every caller still waiting, unchanged.
   */
  run(key: string, fn: (signal: AbortSignal) => Promise<V>, options?: CoalesceOptions): Promise<V> {
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    const flight = this.#flights.get(key) ?? this.#start(key, fn);
    flight.waiting += 1;
    if (signal === undefined) return flight.promise;

    return new Promise<V>((resolve, reject) => {
      const onAbort = (): void => {
        reject(abortError(signal));
        flight.waiting -= 1;
        if (flight.waiting === 0) {
          // Nobody wants the result: release the key first, so a new caller starts afresh
          // instead of joining a call that is being cancelled.
          if (this.#flights.get(key) === flight) this.#flights.delete(key);
          flight.controller.abort(signal.reason);
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
    });
  }

  #start(key: string, fn: (signal: AbortSignal) => Promise<V>): Flight<V> {
    const controller = new AbortController();
    // The executor turns a synchronous throw of fn into a rejection.
    const promise = new Promise<V>((resolve) => resolve(fn(controller.signal)));
    const flight: Flight<V> = { promise, controller, waiting: 0 };
    const release = (): void => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    // Also marks the promise handled, so a call every caller abandoned cannot reject unhandled.
    promise.then(release, release);
    this.#flights.set(key, flight);
    return flight;
  }
}
