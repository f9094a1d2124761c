import { AidocError, AidocErrorCode } from '../errors/aidoc-error.ts';
import { abortError } from '../errors/to-aidoc-error.ts';
import type { Span } from '../tracing/span.ts';
import { currentSpan } from '../tracing/trace-context.ts';
import { throwIfAborted } from './abort.ts';
import { expectDelay, expectPositiveInteger, invalidOption } from '../errors/validate-option.ts';

/** At most `limit` calls start in any window of `intervalMs` (a sliding window). */
export interface PoolRate {
  readonly limit: number;
  readonly intervalMs: number;
}

export interface PoolOptions {
  /** Shown in metrics and error details; the key in the pool registry. */
  name: string;
  /** Maximum number of calls in flight at once (a positive integer or `Infinity`). */
  concurrency: number;
  /**
   * Start-rate limit for upstreams that count requests per interval (e.g. 600 per minute), on
   * top of `concurrency`. A sliding window: no `intervalMs` span ever holds more than `limit`
   * starts, so there is no burst at a window boundary.
   * @default undefined (no rate limit)
   */
  rate?: PoolRate;
  /**
   * Ceiling on a pause learnt from an upstream's `Retry-After`, so a malformed header (seconds
   * read as milliseconds, a date far ahead) cannot stall every caller of the pool for hours.
   * Explicit `pauseFor` calls are not capped.
   * @default 60_000
   */
  maxPauseMs?: number;
}

export interface PoolRunOptions {
  /** Aborting while queued removes the call from the queue at once (ABORTED); `fn` receives it too. */
  signal?: AbortSignal;
  /**
   * The span whose `queuedMs` grows by the time this call waited for a slot (pause included).
   * @default currentSpan()
   */
  span?: Span;
}

const DEFAULT_MAX_PAUSE_MS = 60_000;

/** Throws a `TypeError` naming the first invalid option (the constructor and the registry use it). */
export function validatePoolOptions(options: PoolOptions): void {
  if (typeof options.name !== 'string' || options.name === '') throw invalidOption('name', 'a non-empty string', options.name);
  expectPositiveInteger('concurrency', options.concurrency, true);
  if (options.rate !== undefined) validateRate(options.rate);
  if (options.maxPauseMs !== undefined) expectDelay('maxPauseMs', options.maxPauseMs);
}

function validateRate(rate: PoolRate): void {
  if (typeof rate !== 'object' || rate === null) throw invalidOption('rate', 'an object', rate);
  expectPositiveInteger('rate.limit', rate.limit);
  expectDelay('rate.intervalMs', rate.intervalMs, true);
}

/** A queued call, in a doubly linked list so an abort removes it in O(1). */
class Waiter {
  readonly abandon: (waiter: Waiter) => void;
  readonly signal: AbortSignal | undefined;
  readonly span: Span | undefined;
  readonly queuedAt: number;
  readonly resolve: () => void;
  readonly reject: (error: AidocError) => void;
  previous: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;

  constructor(
    abandon: (waiter: Waiter) => void,
    signal: AbortSignal | undefined,
    span: Span | undefined,
    resolve: () => void,
    reject: (error: AidocError) => void,
  ) {
    this.abandon = abandon;
    this.signal = signal;
    this.span = span;
    this.queuedAt = span === undefined ? 0 : performance.now();
    this.resolve = resolve;
    this.reject = reject;
  }

  /** The abort listener (the waiter itself is the listener object, so no closure per call). */
  handleEvent(): void {
    this.abandon(this);
  }

  recordQueued(): void {
    if (this.span !== undefined) this.span.queuedMs += performance.now() - this.queuedAt;
  }
}

/**
 * Bounds how many calls to one upstream are in flight, shared by everything that calls it
 * (a process-wide budget, usually obtained from the pool registry). Calls start in FIFO order.
 *
 * The pool learns from the upstream: when a call fails with RATE_LIMITED and `retryAfterMs`,
 * the whole pool pauses for that long, so callers that retry on their own queue behind the
 * pause instead of hammering an upstream that just said "not yet".
 *
 * Timers: the pool holds a (ref'd) timer only while a queued call waits for a pause or the rate
 * window to end. That timer must keep the process alive, since a caller is awaiting it; with
 * nobody queued there is nothing to wake, so no timer exists and an idle or merely paused pool
 * never keeps the process alive. Pause and rate are checked again whenever a call arrives.
 *
 * Internally times are monotonic (`performance.now()`), so a wall-clock change cannot stall the
 * pool; `pausedUntil` reports the pause in epoch milliseconds for display.
 */
export class ConcurrencyPool {
  readonly name: string;
  #concurrency: number;
  #rate: PoolRate | undefined;
  #maxPauseMs: number;
  #active = 0;
  #pending = 0;
  #head: Waiter | undefined = undefined;
  #tail: Waiter | undefined = undefined;
  /** Monotonic time before which no call starts; 0 when not paused. */
  #pausedUntil = 0;
  /** Start times of the last `rate.limit` calls: a ring, oldest at `#startsOldest` once full. */
  #starts: number[] = [];
  #startsOldest = 0;
  #wakeTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  #wakeAt = 0;
  readonly #wake = (): void => {
    this.#wakeTimer = undefined;
    this.#drain();
  };
  #idle: { promise: Promise<void>; resolve: () => void } | undefined = undefined;
  /** A queued call's abort listener: it leaves the queue at once. */
  readonly #abandon = (waiter: Waiter): void => {
    this.#unlink(waiter);
    waiter.recordQueued();
    waiter.reject(abortError(waiter.signal!));
    // The queue may now be empty (drop the wake timer) or hold no one behind a pause.
    this.#drain();
  };

  constructor(options: PoolOptions) {
    validatePoolOptions(options);
    this.name = options.name;
    this.#concurrency = options.concurrency;
    this.#rate = options.rate === undefined ? undefined : { limit: options.rate.limit, intervalMs: options.rate.intervalMs };
    this.#maxPauseMs = options.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;
  }

  /** Maximum calls in flight. Raising it starts queued calls at once; lowering it lets in-flight calls finish. */
  get concurrency(): number {
    return this.#concurrency;
  }

  set concurrency(value: number) {
    expectPositiveInteger('concurrency', value, true);
    this.#concurrency = value;
    this.#drain();
  }

  /**
   * The start-rate limit, or undefined. Changing it keeps the most recent starts, so a
   * reconfiguration cannot be used to burst past the old limit.
   */
  get rate(): PoolRate | undefined {
    return this.#rate;
  }

  set rate(value: PoolRate | undefined) {
    if (value !== undefined) validateRate(value);
    const recent = this.#starts.slice(this.#startsOldest).concat(this.#starts.slice(0, this.#startsOldest));
    this.#rate = value === undefined ? undefined : { limit: value.limit, intervalMs: value.intervalMs };
    this.#starts = value === undefined ? [] : recent.slice(-value.limit);
    this.#startsOldest = 0;
    this.#drain();
  }

  /** Ceiling on pauses learnt from `Retry-After`; setting `undefined` restores the default (60 s). */
  get maxPauseMs(): number {
    return this.#maxPauseMs;
  }

  set maxPauseMs(value: number | undefined) {
    if (value !== undefined) expectDelay('maxPauseMs', value);
    this.#maxPauseMs = value ?? DEFAULT_MAX_PAUSE_MS;
  }

  /** Calls in flight (including one handed a slot that has not started yet). */
  get activeCount(): number {
    return this.#active;
  }

  /** Calls waiting for a slot. */
  get pendingCount(): number {
    return this.#pending;
  }

  /** When the current pause ends (epoch milliseconds), or undefined when not paused. */
  get pausedUntil(): number | undefined {
    const remaining = this.#pausedUntil - performance.now();
    return remaining > 0 ? Date.now() + remaining : undefined;
  }

  /**
   * Runs `fn` once a slot is free, passing it the caller's signal. Rejects with ABORTED (and
   * leaves the queue) if the signal fires while queued; otherwise settles as `fn` does, with
   * `fn`'s own error unchanged.
   */
  async run<T>(fn: (signal: AbortSignal | undefined) => Promise<T>, options?: PoolRunOptions): Promise<T> {
    const signal = options?.signal;
    if (signal?.aborted === true) throw abortError(signal);
    if (this.#head === undefined && this.#active < this.#concurrency && this.#readyAt() === 0) {
      this.#start();
    } else {
      // Resolves once #drain has reserved a slot for us; the await also puts `fn` back in the
      // caller's async context (its span), not the context of the call that freed the slot.
      await this.#enqueue(signal, options?.span ?? currentSpan());
    }
    try {
      // The signal may have fired between the hand-over and this continuation.
      throwIfAborted(signal);
      return await fn(signal);
    } catch (error) {
      this.#learnFrom(error);
      throw error;
    } finally {
      this.#active -= 1;
      this.#drain();
    }
  }

  /**
   * Holds every queued call until `ms` from now. A longer pause extends the current one; a
   * shorter one never shortens it. Calls already in flight are not affected.
   */
  pauseFor(ms: number): void {
    expectDelay('ms', ms);
    const until = performance.now() + ms;
    if (until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#drain();
  }

  /** Resolves when nothing is in flight and nothing is queued (immediately if so already). */
  onIdle(): Promise<void> {
    if (this.#active === 0 && this.#pending === 0) return Promise.resolve();
    if (this.#idle === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((settle) => (resolve = settle));
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }

  #enqueue(signal: AbortSignal | undefined, span: Span | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = new Waiter(this.#abandon, signal, span, resolve, reject);
      if (this.#tail === undefined) {
        this.#head = waiter;
      } else {
        this.#tail.next = waiter;
        waiter.previous = this.#tail;
      }
      this.#tail = waiter;
      this.#pending += 1;
      signal?.addEventListener('abort', waiter, { once: true });
      this.#drain();
    });
  }

  #unlink(waiter: Waiter): void {
    if (waiter.previous === undefined) this.#head = waiter.next;
    else waiter.previous.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.previous;
    else waiter.next.previous = waiter.previous;
    waiter.previous = undefined;
    waiter.next = undefined;
    this.#pending -= 1;
  }

  /** Starts queued calls while slots are free and neither a pause nor the rate window holds them. */
  #drain(): void {
    while (this.#head !== undefined && this.#active < this.#concurrency) {
      const readyAt = this.#readyAt();
      if (readyAt !== 0) {
        this.#scheduleWake(readyAt);
        return;
      }
      const waiter = this.#head;
      this.#unlink(waiter);
      waiter.signal?.removeEventListener('abort', waiter);
      waiter.recordQueued();
      this.#start();
      waiter.resolve();
    }
    if (this.#head === undefined) this.#cancelWake();
    if (this.#active === 0 && this.#pending === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle.resolve();
    }
  }

  /** 0 when a call may start now, else the monotonic time at which it may. */
  #readyAt(): number {
    const rate = this.#rate;
    if (this.#pausedUntil === 0 && rate === undefined) return 0;
    const now = performance.now();
    let readyAt = 0;
    if (this.#pausedUntil !== 0) {
      if (now < this.#pausedUntil) readyAt = this.#pausedUntil;
      else this.#pausedUntil = 0;
    }
    if (rate !== undefined && this.#starts.length === rate.limit) {
      // Full ring: the oldest of the last `limit` starts must have left the window.
      const freeAt = this.#starts[this.#startsOldest]! + rate.intervalMs;
      if (now < freeAt && freeAt > readyAt) readyAt = freeAt;
    }
    return readyAt;
  }

  #start(): void {
    this.#active += 1;
    const rate = this.#rate;
    if (rate === undefined) return;
    const now = performance.now();
    if (this.#starts.length < rate.limit) {
      this.#starts.push(now);
    } else {
      this.#starts[this.#startsOldest] = now;
      this.#startsOldest = (this.#startsOldest + 1) % rate.limit;
    }
  }

  #learnFrom(error: unknown): void {
    if (!AidocError.hasCode(error, AidocErrorCode.RATE_LIMITED)) return;
    const retryAfterMs = error.retryAfterMs;
    // `> 0` also rejects NaN from a malformed header.
    if (retryAfterMs === undefined || !(retryAfterMs > 0)) return;
    const pauseMs = Math.min(retryAfterMs, this.#maxPauseMs);
    currentSpan()?.annotate(`pool "${this.name}" paused for ${Math.round(pauseMs)} ms (RATE_LIMITED)`);
    this.pauseFor(pauseMs);
  }

  #scheduleWake(at: number): void {
    if (this.#wakeTimer !== undefined) {
      if (this.#wakeAt === at) return;
      clearTimeout(this.#wakeTimer);
    }
    this.#wakeAt = at;
    // Timers may fire a little early against performance.now(); #drain then simply re-arms.
    this.#wakeTimer = setTimeout(this.#wake, Math.max(1, Math.ceil(at - performance.now())));
  }

  #cancelWake(): void {
    if (this.#wakeTimer === undefined) return;
    clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
  }
}
