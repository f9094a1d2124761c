import { AidocError } from '../errors/aidoc-error.ts';
import { abortError, toAidocError } from '../errors/to-aidoc-error.ts';
import { expectPositiveInteger } from '../errors/validate-option.ts';

export interface MicroBatcherOptions<Item, Result> {
  /** Most items one `execute` call receives; a full batch is sent at once. */
  readonly maxBatchSize: number;
  /**
   * Runs one batch: result `i` belongs to `items[i]`. Its signal aborts only when every caller
   * waiting on the batch has aborted.
   */
  readonly execute: (items: readonly Item[], signal: AbortSignal) => Promise<readonly Result[]>;
  /**
   * Identifies identical items: a load whose key is already queued or in flight joins it
   * instead of adding the item again (coalescing). Without it, every load is its own item.
   */
  readonly key?: (item: Item) => string;
}

interface Batch<Item> {
  readonly items: Item[];
  readonly entries: Entry<unknown>[];
  readonly controller: AbortController;
  /** Callers still waiting on some entry of this batch; at zero the batch is aborted. */
  waiting: number;
}

interface Entry<Result> {
  readonly key: string | undefined;
  readonly batch: Batch<unknown>;
  readonly promise: Promise<Result>;
  resolve(value: Result): void;
  reject(error: unknown): void;
}

/**
 * Collects the loads made in the same tick into one batched call (the DataLoader pattern): the
 * searches of one agent turn, or of many concurrent requests, become one embedding call and one
 * vector-store round trip instead of one each. Identical keys share one item. A caller that
 * aborts leaves at once; the batch itself is aborted only when nobody waits on it any more.
 *
 * Loads whose input is still being computed (a search waiting for its query's embedding, which
 * may come from another request's call) are announced first, and the open batch waits for every
 * announced load: otherwise inputs that become ready a few ticks apart would each go out alone.
 */
export class MicroBatcher<Item, Result> {
  readonly #options: MicroBatcherOptions<Item, Result>;
  #open: Batch<Item> | undefined;
  readonly #byKey = new Map<string, Entry<Result>>();
  /** Loads announced and not yet made (or given up): the open batch waits for them. */
  #announced = 0;

  constructor(options: MicroBatcherOptions<Item, Result>) {
    expectPositiveInteger('maxBatchSize', options.maxBatchSize);
    this.#options = options;
  }

  /** Keys queued or in flight. */
  get inFlight(): number {
    return this.#byKey.size;
  }

  /**
   * Announces a load to come: until the returned function is called, the open batch is held for
   * it (a full batch still goes). Call it right after making the load, or when the load will not
   * be made (a failure, an abort); calls after the first do nothing.
   *
   * @example
   * ```ts
   * const done = searches.announce();
   * try {
   *   const vector = await embed(query);
   *   const hits = searches.load({ vector, limit });
   *   done();
   *   return await hits;
   * } finally {
   *   done();
   * }
   * ```
   */
  announce(): () => void {
    this.#announced++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.#announced === 0 && this.#open !== undefined) this.#scheduleFlush(this.#open);
    };
  }

  load(item: Item, options: { readonly signal?: AbortSignal } = {}): Promise<Result> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const key = this.#options.key?.(item);
    const entry = (key === undefined ? undefined : this.#byKey.get(key)) ?? this.#enqueue(item, key);
    return this.#wait(entry, signal);
  }

  #enqueue(item: Item, key: string | undefined): Entry<Result> {
    let batch = this.#open;
    if (batch === undefined) {
      batch = { items: [], entries: [], controller: new AbortController(), waiting: 0 };
      this.#open = batch;
      this.#scheduleFlush(batch);
    }
    let resolve!: (value: Result) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<Result>((onResolve, onReject) => {
      resolve = onResolve;
      reject = onReject;
    });
    // Every caller may have left by the time it settles; the entry's own rejection is not news.
    promise.catch(() => undefined);
    const entry: Entry<Result> = { key, batch: batch, promise, resolve, reject };
    batch.items.push(item);
    batch.entries.push(entry);
    if (key !== undefined) this.#byKey.set(key, entry);
    if (batch.items.length >= this.#options.maxBatchSize) this.#flush(batch);
    return entry;
  }

  /** Sends `batch` once the current tick is done, unless announced loads are still to come. */
  #scheduleFlush(batch: Batch<Item>): void {
    queueMicrotask(() => {
      if (this.#announced === 0) this.#flush(batch);
    });
  }

  #flush(batch: Batch<Item>): void {
    if (this.#open !== batch) return;
    this.#open = undefined;
    const settle = (outcome: (entry: Entry<unknown>, index: number) => void): void => {
      batch.entries.forEach((entry, index) => {
        if (entry.key !== undefined && this.#byKey.get(entry.key) === entry) this.#byKey.delete(entry.key);
        outcome(entry, index);
      });
    };
    let running: Promise<readonly Result[]>;
    try {
      running = this.#options.execute(batch.items, batch.controller.signal);
    } catch (error) {
      running = Promise.reject(toAidocError(error));
    }
    running.then(
      (results) => {
        if (results.length !== batch.items.length) {
          const error = new AidocError('INVALID_OUTPUT', `A batch of ${batch.items.length} returned ${results.length} results`);
          settle((entry) => entry.reject(error));
          return;
        }
        settle((entry, index) => entry.resolve(results[index]));
      },
      (error: unknown) => settle((entry) => entry.reject(error)),
    );
  }

  /** Nobody waits any more: abort the batch, and let later loads of its keys start afresh. */
  #cancel(batch: Batch<unknown>, reason: unknown): void {
    for (const entry of batch.entries) {
      if (entry.key !== undefined && this.#byKey.get(entry.key) === entry) this.#byKey.delete(entry.key);
    }
    if (this.#open === batch) this.#open = undefined;
    batch.controller.abort(reason);
  }

  /** This caller's view of an entry: rejects at once when its own signal aborts. */
  #wait(entry: Entry<Result>, signal: AbortSignal | undefined): Promise<Result> {
    const batch = entry.batch;
    batch.waiting++;
    if (signal === undefined) return entry.promise;
    return new Promise<Result>((resolve, reject) => {
      const onAbort = (): void => {
        reject(abortError(signal));
        if (--batch.waiting === 0) this.#cancel(batch, signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      entry.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(toAidocError(error));
        },
      );
    });
  }
}
