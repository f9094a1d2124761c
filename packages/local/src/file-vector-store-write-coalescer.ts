import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Coalesces the durable writes of one collection. Each mutation applies its change in memory,
 * then calls `request()`: the returned promise settles with the first write that STARTS after the
 * call, so it covers the change. While a write runs, every further request joins the one next
 * write; that write also waits a turn of the event loop, so mutations released together (after
 * waiting for the running write) all land in it. One write at a time, never more than one queued.
 */
export class WriteCoalescer {
  readonly #write: () => Promise<void>;
  /** The write in progress. */
  #running: Promise<void> | undefined;
  /** The write that will start when the running one ends; new requests join it. */
  #next: Promise<void> | undefined;

  constructor(write: () => Promise<void>) {
    this.#write = write;
  }

  /** Resolves once a write that started after this call is durable; rejects with that write's error. */
  request(): Promise<void> {
    if (this.#next !== undefined) return this.#next;
    const next = this.#writeAfter(this.#running);
    // Callers handle the outcome; this keeps a write nobody awaits any more (all callers
    // aborted) from surfacing as an unhandled rejection.
    next.catch(() => undefined);
    this.#next = next;
    return next;
  }

  async #writeAfter(previous: Promise<void> | undefined): Promise<void> {
    // A failed write is reported to its own callers; the next write still runs.
    if (previous !== undefined) await previous.catch(() => undefined);
    await nextTurn();
    // This call's promise is `#next` until now: from here on, new requests need a later write.
    const current = this.#next;
    this.#next = undefined;
    this.#running = current;
    try {
      await this.#write();
    } finally {
      if (this.#running === current) this.#running = undefined;
    }
  }

  /** Resolves when no write is queued or running (their errors went to their callers). */
  async idle(): Promise<void> {
    for (let pending = this.#next ?? this.#running; pending !== undefined; pending = this.#next ?? this.#running) {
      await pending.catch(() => undefined);
    }
  }
}
