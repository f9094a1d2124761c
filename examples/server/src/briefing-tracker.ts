/** One briefing in flight: its controller (aborted by a disconnect or the drain deadline) and its end. */
interface TrackedBriefing {
  readonly controller: AbortController;
  readonly finished: Promise<void>;
}

/** A briefing counted as in flight. */
export interface TrackedRun {
  /** Aborts the briefing's upstream calls. */
  readonly signal: AbortSignal;
  /** Marks it finished (idempotent). */
  readonly end: () => void;
}

/** Why a drain aborted the briefings still running at its deadline. */
export class DrainTimeoutError extends Error {
  override readonly name = 'DrainTimeoutError';
}

/**
 * The briefings in flight, so a shutdown can wait for them (and abort those that outlive the
 * drain deadline) before the adapters they use are closed.
 */
export class BriefingTracker {
  readonly #running = new Set<TrackedBriefing>();
  readonly #onChange: (inFlight: number) => void;

  constructor(onChange: (inFlight: number) => void = () => {}) {
    this.#onChange = onChange;
  }

  get inFlight(): number {
    return this.#running.size;
  }

  /**
   * Counts a briefing as in flight until `end()` (idempotent). Its `signal` fires when `clientSignal`
   * fires (the client left) or a drain gives up on it.
   */
  begin(clientSignal: AbortSignal): TrackedRun {
    const controller = new AbortController();
    const forward = (): void => controller.abort(clientSignal.reason);
    if (clientSignal.aborted) forward();
    else clientSignal.addEventListener('abort', forward, { once: true });
    let resolveFinished = (): void => {};
    const tracked: TrackedBriefing = { controller, finished: new Promise<void>((resolve) => (resolveFinished = resolve)) };
    this.#running.add(tracked);
    this.#onChange(this.#running.size);
    return {
      signal: controller.signal,
      end: () => {
        if (!this.#running.delete(tracked)) return;
        clientSignal.removeEventListener('abort', forward);
        this.#onChange(this.#running.size);
        resolveFinished();
      },
    };
  }

  /** Runs `work` as one tracked briefing (see `begin`). */
  async run<T>(clientSignal: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const tracked = this.begin(clientSignal);
    try {
      return await work(tracked.signal);
    } finally {
      tracked.end();
    }
  }

  /**
   * Resolves once every briefing in flight has finished; those still running after `timeoutMs`
   * are aborted (and awaited). Returns how many had to be aborted.
   */
  async drain(timeoutMs: number): Promise<number> {
    const pending = [...this.#running];
    if (pending.length === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'timeout')));
    const outcome = await Promise.race([Promise.all(pending.map((briefing) => briefing.finished)).then(() => 'drained' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'drained') return 0;
    const late = pending.filter((briefing) => this.#running.has(briefing));
    for (const briefing of late) briefing.controller.abort(new DrainTimeoutError(`Shutdown drain deadline (${timeoutMs} ms) passed`));
    await Promise.all(late.map((briefing) => briefing.finished));
    return late.length;
  }
}
