/** A snapshot of an ingest run, passed to `onProgress`. Counts are cumulative. */
export interface IngestProgress {
  /** Documents finished: ingested, unchanged or failed. */
  readonly documentsDone: number;
  /** Documents in the run, once the sources have been resolved (folders walked); 0 before. */
  readonly documentsTotal: number;
  /** Chunks cut so far, stored or not. */
  readonly chunks: number;
  /** Chunks embedded (in a dry run: that a real run would embed). */
  readonly embedded: number;
  /** Chunks written to the vector store. */
  readonly upserted: number;
  /** Chunks already stored unchanged, so neither embedded nor written. */
  readonly skipped: number;
  /** Stale points removed (chunks of an earlier version that no longer exist); in a dry run, that would be. */
  readonly deleted: number;
  /** Documents that failed (unreadable, unparsable, empty). */
  readonly failed: number;
  readonly elapsedMs: number;
  /** Chunks settled (stored or skipped; cut, in a dry run) per second since the start. */
  readonly chunksPerSecond: number;
  /**
   * Estimated time to the end, from the rate so far and the chunks left (documents not yet
   * chunked count as the average so far). Undefined until there is a rate to go on; 0 at the end.
   */
  readonly etaMs: number | undefined;
  /** True on the last event of a run (completed, failed or aborted). */
  readonly final: boolean;
}

/** Receives progress snapshots. A listener that throws fails the run with its error. */
export type IngestProgressListener = (progress: IngestProgress) => void;

/** Events are at least this far apart, except the final one. */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Throttles progress events: `update()` after every change emits at once when the last event is
 * `PROGRESS_INTERVAL_MS` old, else schedules one for when it will be (one timer at most, unref'd);
 * `finish()` cancels that and emits the final event.
 */
export class ProgressReporter {
  readonly #listener: IngestProgressListener | undefined;
  readonly #snapshot: (final: boolean) => IngestProgress;
  readonly #onListenerError: (error: unknown) => void;
  #lastEmit = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #finished = false;
  #last: IngestProgress | undefined;

  constructor(
    listener: IngestProgressListener | undefined,
    snapshot: (final: boolean) => IngestProgress,
    onListenerError: (error: unknown) => void,
  ) {
    this.#listener = listener;
    this.#snapshot = snapshot;
    this.#onListenerError = onListenerError;
  }

  /** The last snapshot emitted (undefined before the first). */
  get last(): IngestProgress | undefined {
    return this.#last;
  }

  update(): void {
    if (this.#listener === undefined || this.#finished || this.#timer !== undefined) return;
    const wait = this.#lastEmit + PROGRESS_INTERVAL_MS - performance.now();
    if (wait <= 0) {
      this.#emit(false);
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#finished) this.#emit(false);
    }, Math.ceil(wait));
    this.#timer.unref();
  }

  /** Emits the final snapshot (once) and returns it. */
  finish(): IngestProgress {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#finished) {
      this.#finished = true;
      this.#emit(true);
    }
    return this.#last ?? this.#snapshot(true);
  }

  #emit(final: boolean): void {
    this.#lastEmit = performance.now();
    const progress = this.#snapshot(final);
    this.#last = progress;
    if (this.#listener === undefined) return;
    try {
      this.#listener(progress);
    } catch (error) {
      this.#onListenerError(error);
    }
  }
}
