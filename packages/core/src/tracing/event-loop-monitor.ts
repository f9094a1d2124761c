import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { AidocError } from '../errors/aidoc-error.ts';
import {
  activityObserver,
  attachActivityObserver,
  detachActivityObserver,
  runningTasks,
  type ActivityObserver,
  type TaskActivity,
} from '../executor/task-activity.ts';
import { expectDelay, expectOptionalFunction, invalidOption } from '../errors/validate-option.ts';

/**
 * What the monitor does about a stall. Every mode records it (`stalls`, `onStall`, span
 * annotations); `warn` also logs it; `throw` also fails the task whose synchronous slice
 * blocked (a stall seen only through timer drift has nobody to throw into, so it is reported).
 */
export type EventLoopMonitorMode = 'report' | 'warn' | 'throw';

/** One period during which the event loop could not run anything else. */
export interface EventLoopStall {
  /**
   * How long the loop was blocked, in milliseconds. Exact for `sync-slice`; for `timer-drift` a
   * lower bound (the timer's lateness), at most `sampleIntervalMs` short of the truth.
   */
  readonly durationMs: number;
  /** When the stall began (estimated for `timer-drift`), in ms since the epoch. */
  readonly at: number;
  /** Names of the tasks held responsible; see `attribution`. Empty when no task was running. */
  readonly tasks: readonly string[];
  /**
   * `exact`: the named tasks' measured synchronous slices make up the stall. `suspects`: the loop
   * was blocked outside any measured slice (code after an `await`, or outside the executor), so
   * the names are the tasks in flight when it happened, likeliest first.
   */
  readonly attribution: 'exact' | 'suspects';
  /** `sync-slice`: the executor measured it around a task's function. `timer-drift`: a late timer saw it. */
  readonly source: 'sync-slice' | 'timer-drift';
}

/** Event-loop delay since `start()` or the last `resetStats()`. */
export interface EventLoopStats {
  /**
   * Percentiles of how late the loop ran the histogram's sampling timer, in milliseconds (the
   * histogram records whole intervals, so `sampleIntervalMs` is subtracted). Near 0 for a healthy loop.
   */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** Number of samples behind the percentiles; 0 means the figures are not meaningful yet. */
  readonly samples: number;
  /** Share of wall time the loop spent running code rather than waiting (0 to 1). */
  readonly utilization: number;
}

export interface EventLoopMonitorOptions {
  /**
   * A synchronous stretch at least this long is a stall. 50 ms is where users of a server start
   * to feel it, and well above the few milliseconds a healthy pipeline step holds the loop.
   * @default 50
   */
  thresholdMs?: number;
  /** @default 'report' */
  mode?: EventLoopMonitorMode;
  /**
   * How often the drift timer and the delay histogram sample the loop. Smaller catches shorter
   * stalls through drift and reports their length more closely, at the cost of waking an idle
   * process more often (a busy process pays next to nothing: the timer rides on loop iterations
   * that happen anyway). Measured on a 2-core VM at 25 ms: about 0.2% of a busy process's
   * throughput, within noise, and 0.6-0.8% of a core for an otherwise idle process.
   * @default thresholdMs / 2, clamped to 10..1000
   */
  sampleIntervalMs?: number;
  /**
   * Called for every stall, after the spans are annotated. Errors it throws are turned into a
   * process warning: a reporting bug must not fail the task being reported or crash the timer.
   */
  onStall?: (stall: EventLoopStall) => void;
  /**
   * Where `warn` mode writes. The default, `process.emitWarning` (type
   * `EventLoopBlockedWarning`), prints to stderr once per stall, honours `--no-warnings`, and
   * reaches `process.on('warning')` listeners.
   * @default process.emitWarning
   */
  logger?: { warn(message: string): void };
}

/**
 * Watches the event loop for stalls and names the tasks behind them. One monitor can run per
 * process (the executor reports to it through module state): `start()` throws while another
 * runs, rather than silently handing back a monitor with someone else's options.
 */
export interface EventLoopMonitor {
  readonly thresholdMs: number;
  readonly mode: EventLoopMonitorMode;
  readonly sampleIntervalMs: number;
  /** True between `start()` and `stop()`. */
  readonly running: boolean;
  /** The most recent stalls (at most 100), oldest first. */
  readonly stalls: readonly EventLoopStall[];
  /**
   * Starts sampling and attaches to the executor, so tasks started from now on are tracked.
   * Calling it on a running monitor does nothing. Throws an AidocError `INVALID_INPUT` when
   * another monitor is running in this process.
   */
  start(): this;
  /** Stops sampling and detaches; leaves no timer or histogram behind. Idempotent. */
  stop(): void;
  stats(): EventLoopStats;
  /** Clears the histogram and the utilization baseline (not `stalls`). */
  resetStats(): void;
}

const MODES: ReadonlySet<unknown> = new Set<EventLoopMonitorMode>(['report', 'warn', 'throw']);
const MAX_STALLS = 100;
/** Slices shorter than this cannot matter to a stall's attribution; skipping them keeps the hot path cheap. */
const MIN_RECORDED_SLICE_MS = 1;
/** Bounds the per-interval bookkeeping when thousands of tasks run between two samples. */
const MAX_RECORDED_PER_INTERVAL = 256;

interface MeasuredSlice {
  readonly activity: TaskActivity;
  readonly durationMs: number;
  /** True when it was already reported as a `sync-slice` stall. */
  readonly reported: boolean;
}

interface EndedTask {
  readonly activity: TaskActivity;
  readonly endedAt: number;
}

/**
 * Creates a stopped monitor; call `start()`. It sees stalls two ways: the executor's measured
 * synchronous slices (exact, and able to fail the task in `throw` mode), and the drift of one
 * unref'd timer (catches blocking anywhere, e.g. after an `await` inside a task), reporting each
 * stall once. `perf_hooks.monitorEventLoopDelay` feeds `stats()`.
 */
export function createEventLoopMonitor(options: EventLoopMonitorOptions = {}): EventLoopMonitor {
  return new EventLoopMonitorImplementation(options);
}

class EventLoopMonitorImplementation implements EventLoopMonitor, ActivityObserver {
  readonly thresholdMs: number;
  readonly mode: EventLoopMonitorMode;
  readonly sampleIntervalMs: number;
  readonly #onStall: ((stall: EventLoopStall) => void) | undefined;
  readonly #logger: { warn(message: string): void };
  readonly #stalls: EventLoopStall[] = [];
  readonly #minRecordedSliceMs: number;
  #timer: NodeJS.Timeout | undefined;
  #histogram: ReturnType<typeof monitorEventLoopDelay> | undefined;
  #utilizationBaseline = performance.eventLoopUtilization();
  #lastSampleAt = 0;
  // What happened since the last drift sample: enough to attribute and de-duplicate a stall.
  readonly #slices = new RecentEntries<MeasuredSlice>();
  readonly #ended = new RecentEntries<EndedTask>();

  constructor(options: EventLoopMonitorOptions) {
    const { thresholdMs = 50, mode = 'report', onStall, logger } = options;
    if (typeof thresholdMs !== 'number' || !Number.isFinite(thresholdMs) || thresholdMs <= 0) {
      throw invalidOption('thresholdMs', 'a positive number', thresholdMs);
    }
    if (!MODES.has(mode)) {
      throw invalidOption('mode', "'report', 'warn' or 'throw'", mode);
    }
    const sampleIntervalMs = options.sampleIntervalMs ?? Math.min(Math.max(thresholdMs / 2, 10), 1000);
    expectDelay('sampleIntervalMs', sampleIntervalMs, true);
    expectOptionalFunction('onStall', onStall);
    if (logger !== undefined && typeof logger?.warn !== 'function') {
      throw invalidOption('logger', 'an object with a `warn` method', logger);
    }
    this.thresholdMs = thresholdMs;
    this.mode = mode;
    this.sampleIntervalMs = sampleIntervalMs;
    this.#minRecordedSliceMs = Math.min(MIN_RECORDED_SLICE_MS, thresholdMs);
    this.#onStall = onStall;
    this.#logger = logger ?? { warn: emitProcessWarning };
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  get stalls(): readonly EventLoopStall[] {
    return this.#stalls.slice();
  }

  start(): this {
    if (this.#timer !== undefined) return this;
    if (activityObserver() !== undefined) {
      throw new AidocError(
        'INVALID_INPUT',
        'Another event-loop monitor is already running in this process; stop it before starting a new one',
      );
    }
    attachActivityObserver(this);
    const histogram = monitorEventLoopDelay({ resolution: Math.max(1, Math.round(this.sampleIntervalMs)) });
    histogram.enable();
    this.#histogram = histogram;
    this.#utilizationBaseline = performance.eventLoopUtilization();
    this.#slices.clear();
    this.#ended.clear();
    this.#lastSampleAt = performance.now();
    this.#timer = setInterval(this.#sample, this.sampleIntervalMs);
    this.#timer.unref();
    return this;
  }

  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#histogram?.disable();
    detachActivityObserver(this);
    this.#slices.clear();
    this.#ended.clear();
  }

  stats(): EventLoopStats {
    const utilization = performance.eventLoopUtilization(this.#utilizationBaseline).utilization;
    const histogram = this.#histogram;
    if (histogram === undefined || histogram.count === 0) {
      return { p50Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0, samples: 0, utilization };
    }
    // The histogram records whole intervals between its samples; the delay is what exceeds the interval.
    const resolutionMs = Math.max(1, Math.round(this.sampleIntervalMs));
    const delay = (nanoseconds: number): number => Math.max(0, nanoseconds / 1e6 - resolutionMs);
    return {
      p50Ms: delay(histogram.percentile(50)),
      p99Ms: delay(histogram.percentile(99)),
      maxMs: delay(histogram.max),
      meanMs: delay(histogram.mean),
      samples: histogram.count,
      utilization,
    };
  }

  resetStats(): void {
    this.#histogram?.reset();
    this.#utilizationBaseline = performance.eventLoopUtilization();
  }

  /** @internal Called through `syncSliceMeasured`. */
  sliceMeasured(activity: TaskActivity, durationMs: number): void {
    if (!(durationMs >= this.#minRecordedSliceMs)) return;
    const blocking = durationMs >= this.thresholdMs;
    this.#slices.push({ activity, durationMs, reported: blocking });
    if (!blocking) return;
    const { span, name } = activity;
    if (span !== undefined) {
      span.syncMs = Math.max(span.syncMs, durationMs);
      span.annotate(`event loop blocked for ${Math.round(durationMs)} ms`);
    }
    this.#report({
      durationMs,
      at: Date.now() - durationMs,
      tasks: [name],
      attribution: 'exact',
      source: 'sync-slice',
    });
    if (this.mode === 'throw') {
      throw new AidocError(
        'EVENT_LOOP_BLOCKED',
        `Task \`${name}\` blocked the event loop for ${Math.round(durationMs)} ms (threshold ${this.thresholdMs} ms)`,
        { details: { task: name, durationMs, thresholdMs: this.thresholdMs } },
      );
    }
  }

  /** @internal Called through `taskEnded`. */
  taskEnded(activity: TaskActivity, endedAt: number): void {
    this.#ended.push({ activity, endedAt });
  }

  readonly #sample = (): void => {
    const now = performance.now();
    const driftMs = now - this.#lastSampleAt - this.sampleIntervalMs;
    this.#lastSampleAt = now;
    if (driftMs < this.thresholdMs) {
      this.#slices.clear();
      this.#ended.clear();
      return;
    }
    const slices = this.#slices.drain();
    const ended = this.#ended.drain();

    // Slices already reported account for part (usually all) of the drift: report each stall once.
    let reportedMs = 0;
    let measuredMs = 0;
    const measured = new Map<string, { durationMs: number; spans: Set<TaskActivity['span']> }>();
    for (const slice of slices) {
      if (slice.reported) {
        reportedMs += slice.durationMs;
        continue;
      }
      measuredMs += slice.durationMs;
      const entry = measured.get(slice.activity.name) ?? { durationMs: 0, spans: new Set() };
      entry.durationMs += slice.durationMs;
      entry.spans.add(slice.activity.span);
      measured.set(slice.activity.name, entry);
    }
    const durationMs = driftMs - reportedMs;
    if (durationMs < this.thresholdMs) return;
    const at = Date.now() - driftMs;
    const rounded = Math.round(durationMs);

    // Several short slices run back to back (tasks started in one microtask burst) add up.
    if (measuredMs > 0 && durationMs - measuredMs < this.thresholdMs) {
      const ranked = [...measured].sort((a, b) => b[1].durationMs - a[1].durationMs);
      for (const [, entry] of ranked) {
        for (const span of entry.spans) span?.annotate(`event loop blocked for ${rounded} ms`);
      }
      this.#report({
        durationMs,
        at,
        tasks: ranked.map(([name]) => name),
        attribution: 'exact',
        source: 'timer-drift',
      });
      return;
    }

    // The timer was due at `blockedAt` and the loop stayed busy from then until now, so a culprit
    // that has ended since (blocking code after its last `await`) ended at or after it; it ended
    // first, before the tasks its settling let finish.
    const blockedAt = now - driftMs;
    const suspects: TaskActivity[] = [];
    for (const entry of ended) {
      if (entry.endedAt >= blockedAt) suspects.push(entry.activity);
    }
    suspects.push(...runningTasks());
    for (const activity of suspects) {
      activity.span?.annotate(`event loop blocked for ${rounded} ms (suspect: this task was in flight)`);
    }
    this.#report({
      durationMs,
      at,
      tasks: [...new Set(suspects.map((activity) => activity.name))],
      attribution: 'suspects',
      source: 'timer-drift',
    });
  };

  #report(stall: EventLoopStall): void {
    this.#stalls.push(stall);
    if (this.#stalls.length > MAX_STALLS) this.#stalls.shift();
    if (this.#onStall !== undefined) guarded('onStall', () => this.#onStall?.(stall));
    if (this.mode === 'warn') guarded('logger.warn', () => this.#logger.warn(describeStall(stall)));
  }
}

/** One line a person can act on: how long, and who. */
export function describeStall(stall: EventLoopStall): string {
  const duration = `Event loop blocked for ${Math.round(stall.durationMs)} ms`;
  const names = stall.tasks.map((name) => `\`${name}\``).join(', ');
  if (stall.attribution === 'exact') return `${duration} by ${stall.tasks.length > 1 ? 'tasks' : 'task'} ${names}`;
  if (stall.tasks.length === 0) return `${duration} (seen by timer drift; no task in flight)`;
  return `${duration} (seen by timer drift; tasks in flight: ${names})`;
}

/** The last entries pushed since the last drain, oldest first; O(1) per push, no allocation once full. */
class RecentEntries<T> {
  readonly #entries: (T | undefined)[] = [];
  #next = 0;
  #count = 0;

  push(entry: T): void {
    this.#entries[this.#next] = entry;
    this.#next = (this.#next + 1) % MAX_RECORDED_PER_INTERVAL;
    if (this.#count < MAX_RECORDED_PER_INTERVAL) this.#count++;
  }

  drain(): T[] {
    const drained: T[] = [];
    const start = (this.#next - this.#count + MAX_RECORDED_PER_INTERVAL) % MAX_RECORDED_PER_INTERVAL;
    for (let offset = 0; offset < this.#count; offset++) {
      drained.push(this.#entries[(start + offset) % MAX_RECORDED_PER_INTERVAL]!);
    }
    this.clear();
    return drained;
  }

  /** Forgets the entries (and lets go of the tasks they hold). */
  clear(): void {
    if (this.#count === 0) return;
    this.#entries.fill(undefined);
    this.#next = 0;
    this.#count = 0;
  }
}

function guarded(what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.emitWarning(`Event-loop monitor: \`${what}\` threw: ${message}`, { type: 'EventLoopMonitorWarning' });
  }
}

function emitProcessWarning(message: string): void {
  process.emitWarning(message, { type: 'EventLoopBlockedWarning', code: 'EVENT_LOOP_BLOCKED' });
}
