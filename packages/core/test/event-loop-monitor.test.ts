import { createHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import {
  isActivityTracked,
  runningTasks,
  syncSliceMeasured,
  taskEnded,
  taskStarted,
  type TaskActivity,
} from '../src/executor/task-activity.ts';
import {
  createEventLoopMonitor,
  type EventLoopMonitor,
  type EventLoopMonitorOptions,
  type EventLoopStall,
} from '../src/tracing/event-loop-monitor.ts';
import { startTrace } from '../src/tracing/trace-context.ts';

// Margins for a loaded 2-core machine: block for 150 ms, expect >= 100 ms with a 50 ms threshold.
const BLOCK_MS = 150;

function busyWait(ms: number): void {
  const start = performance.now();
  while (performance.now() - start < ms) {
    // Spin: this is the blocking code under test.
  }
}

/** What the executor does around a task's function: time the call until it returns its promise. */
function runTaskSynchronously(activity: TaskActivity, body: () => void): void {
  const start = performance.now();
  body();
  syncSliceMeasured(activity, performance.now() - start);
}

function taskSpan(name: string) {
  const trace = startTrace('test');
  return trace.startSpan(name, 'task', trace.root);
}

const monitors: EventLoopMonitor[] = [];
function startMonitor(options: EventLoopMonitorOptions = {}): EventLoopMonitor {
  const monitor = createEventLoopMonitor({ thresholdMs: 50, ...options });
  monitors.push(monitor);
  return monitor.start();
}

afterEach(() => {
  for (const monitor of monitors.splice(0)) monitor.stop();
  vi.restoreAllMocks();
});

async function waitForStall(monitor: EventLoopMonitor, match: (stall: EventLoopStall) => boolean): Promise<EventLoopStall> {
  let found: EventLoopStall | undefined;
  await vi.waitFor(
    () => {
      found = monitor.stalls.find(match);
      if (found === undefined) throw new Error('no matching stall yet');
    },
    { timeout: 2000, interval: 10 },
  );
  return found!;
}

describe('event-loop monitor: measured synchronous slices', () => {
  it('names the blocking task, annotates its span and records syncMs, exactly once', async () => {
    const onStall = vi.fn<(stall: EventLoopStall) => void>();
    const monitor = startMonitor({ onStall });
    const span = taskSpan('parse-pdf');
    const activity = taskStarted('parse-pdf', span);

    runTaskSynchronously(activity, () => busyWait(BLOCK_MS));

    expect(onStall).toHaveBeenCalledTimes(1);
    const stall = onStall.mock.calls[0]![0];
    expect(stall).toMatchObject({ tasks: ['parse-pdf'], source: 'sync-slice', attribution: 'exact' });
    expect(stall.durationMs).toBeGreaterThanOrEqual(100);
    expect(Math.abs(stall.at - (Date.now() - stall.durationMs))).toBeLessThan(50);
    expect(span.syncMs).toBeGreaterThanOrEqual(100);
    expect(span.annotations.map((annotation) => annotation.message)).toEqual([
      `event loop blocked for ${Math.round(stall.durationMs)} ms`,
    ]);

    // The drift timer sees the same block; it must not be reported a second time.
    await sleep(monitor.sampleIntervalMs * 5);
    taskEnded(activity);
    expect(monitor.stalls.filter((entry) => entry.durationMs >= 100)).toEqual([stall]);
    expect(span.annotations).toHaveLength(1);
  });

  it('ignores slices under the threshold', () => {
    const onStall = vi.fn();
    startMonitor({ onStall });
    const span = taskSpan('embed');
    const activity = taskStarted('embed', span);
    syncSliceMeasured(activity, 20);
    taskEnded(activity);
    expect(onStall).not.toHaveBeenCalled();
    expect(span.syncMs).toBe(0);
    expect(span.annotations).toEqual([]);
  });

  it('in throw mode, throws EVENT_LOOP_BLOCKED naming the task and its duration, after reporting it', () => {
    const monitor = startMonitor({ mode: 'throw' });
    const span = taskSpan('chunk');
    const activity = taskStarted('chunk', span);

    expect(() => syncSliceMeasured(activity, 20)).not.toThrow();
    let thrown: unknown;
    try {
      syncSliceMeasured(activity, 152.4);
    } catch (error) {
      thrown = error;
    }
    taskEnded(activity);

    expect(AidocError.hasCode(thrown, 'EVENT_LOOP_BLOCKED')).toBe(true);
    const error = thrown as AidocError;
    expect(error.message).toBe('Task `chunk` blocked the event loop for 152 ms (threshold 50 ms)');
    expect(error.details).toEqual({ task: 'chunk', durationMs: 152.4, thresholdMs: 50 });
    expect(error.retryable).toBe(false);
    expect(monitor.stalls).toMatchObject([{ tasks: ['chunk'], durationMs: 152.4, source: 'sync-slice' }]);
    expect(span.annotations.map((annotation) => annotation.message)).toEqual(['event loop blocked for 152 ms']);
  });

  it('in throw mode, still reports a drift stall (there is nobody to throw into)', async () => {
    const monitor = startMonitor({ mode: 'throw' });
    busyWait(BLOCK_MS);
    const stall = await waitForStall(monitor, (entry) => entry.source === 'timer-drift');
    expect(stall.durationMs).toBeGreaterThanOrEqual(100);
    expect(stall).toMatchObject({ tasks: [], attribution: 'suspects' });
  });

  it('in warn mode, logs each stall through the logger; report mode does not', () => {
    const warn = vi.fn<(message: string) => void>();
    startMonitor({ mode: 'warn', logger: { warn } });
    const activity = taskStarted('render', undefined);
    syncSliceMeasured(activity, 120);
    taskEnded(activity);
    expect(warn).toHaveBeenCalledExactlyOnceWith('Event loop blocked for 120 ms by task `render`');
    monitors.splice(0)[0]!.stop();

    const quiet = vi.fn();
    startMonitor({ mode: 'report', logger: { warn: quiet } });
    syncSliceMeasured(taskStarted('render', undefined), 120);
    expect(quiet).not.toHaveBeenCalled();
  });

  it('warns through process.emitWarning by default', () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    startMonitor({ mode: 'warn' });
    syncSliceMeasured(taskStarted('render', undefined), 75);
    expect(emitWarning).toHaveBeenCalledExactlyOnceWith('Event loop blocked for 75 ms by task `render`', {
      type: 'EventLoopBlockedWarning',
      code: 'EVENT_LOOP_BLOCKED',
    });
  });

  it('turns an onStall error into a process warning instead of failing the task', () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const monitor = startMonitor({
      onStall: () => {
        throw new Error('exporter down');
      },
    });
    expect(() => syncSliceMeasured(taskStarted('render', undefined), 75)).not.toThrow();
    expect(monitor.stalls).toHaveLength(1);
    expect(emitWarning).toHaveBeenCalledExactlyOnceWith('Event-loop monitor: `onStall` threw: exporter down', {
      type: 'EventLoopMonitorWarning',
    });
  });
});

describe('event-loop monitor: timer drift', () => {
  it('names the tasks in flight when the loop blocks outside a measured slice', async () => {
    const monitor = startMonitor();
    const span = taskSpan('search');
    const inFlight = taskStarted('search', span);
    const finished = taskStarted('long-gone', undefined);
    taskEnded(finished);
    await sleep(monitor.sampleIntervalMs * 2);

    busyWait(BLOCK_MS); // e.g. JSON.parse of a huge response after an await inside `search`
    const stall = await waitForStall(monitor, (entry) => entry.source === 'timer-drift');
    taskEnded(inFlight);

    expect(stall.durationMs).toBeGreaterThanOrEqual(100);
    expect(stall.attribution).toBe('suspects');
    expect(stall.tasks).toEqual(['search']);
    expect(span.annotations.map((annotation) => annotation.message)).toEqual([
      `event loop blocked for ${Math.round(stall.durationMs)} ms (suspect: this task was in flight)`,
    ]);
  });

  it('names a task whose blocking continuation ended it before the timer could fire', async () => {
    const monitor = startMonitor();
    const activity = taskStarted('parse-response', undefined);
    await sleep(monitor.sampleIntervalMs * 2);
    busyWait(BLOCK_MS);
    taskEnded(activity); // the task's promise settles right after its last, blocking, step
    const stall = await waitForStall(monitor, (entry) => entry.source === 'timer-drift');
    expect(stall.tasks).toEqual(['parse-response']);
    expect(runningTasks()).toEqual([]);
  });

  it('adds up short measured slices run back to back and names those tasks exactly', async () => {
    // Three 60 ms slices in one turn of the loop: each under the 80 ms threshold, 180 ms together.
    const monitor = startMonitor({ thresholdMs: 80, sampleIntervalMs: 20 });
    const spans = ['split', 'normalise', 'tokenise'].map((name) => taskSpan(name));
    const activities = spans.map((span) => taskStarted(span.name, span));
    for (const activity of activities) runTaskSynchronously(activity, () => busyWait(60));

    const stall = await waitForStall(monitor, (entry) => entry.source === 'timer-drift');
    for (const activity of activities) taskEnded(activity);
    expect(stall.attribution).toBe('exact');
    expect([...stall.tasks].sort()).toEqual(['normalise', 'split', 'tokenise']);
    expect(stall.durationMs).toBeGreaterThanOrEqual(130);
    for (const span of spans) {
      expect(span.annotations).toHaveLength(1);
      expect(span.syncMs).toBe(0); // no single slice blocked
    }
    expect(monitor.stalls.filter((entry) => entry.source === 'sync-slice')).toEqual([]);
  });
});

describe('event-loop monitor: lifecycle and stats', () => {
  it('tracks tasks only while running; a second monitor cannot start', () => {
    expect(isActivityTracked()).toBe(false);
    taskStarted('untracked', undefined);
    expect(runningTasks()).toEqual([]);

    const first = startMonitor();
    expect(isActivityTracked()).toBe(true);
    expect(first.start()).toBe(first);
    const second = createEventLoopMonitor();
    monitors.push(second);
    expect(() => second.start()).toThrow(/Another event-loop monitor is already running/);
    expect(() => second.start()).toThrow(AidocError);

    const activity = taskStarted('embed', undefined);
    expect(runningTasks().map((task) => task.name)).toEqual(['embed']);
    taskEnded(activity);
    expect(runningTasks()).toEqual([]);
    taskStarted('left-running', undefined);

    first.stop();
    expect(isActivityTracked()).toBe(false);
    expect(runningTasks()).toEqual([]);
    expect(first.running).toBe(false);
    second.start();
    expect(second.running).toBe(true);
  });

  it('holds no ref on the process while running and leaves no timer or histogram after stop', async () => {
    const timers = new Set<number>();
    let recording = false;
    const hook = createHook({
      init(id, type) {
        if (recording && type === 'Timeout') timers.add(id);
      },
      destroy(id) {
        timers.delete(id);
      },
    }).enable();
    try {
      const refsBefore = process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
      recording = true;
      const monitor = startMonitor();
      recording = false;
      expect(timers.size).toBe(1);
      expect(process.getActiveResourcesInfo().filter((type) => type === 'Timeout')).toHaveLength(refsBefore);

      await sleep(monitor.sampleIntervalMs * 3);
      monitor.stop();
      const samples = monitor.stats().samples;
      expect(samples).toBeGreaterThan(0);
      await sleep(monitor.sampleIntervalMs * 3);
      expect(timers.size).toBe(0);
      expect(monitor.stats().samples).toBe(samples); // histogram disabled
      monitor.stop(); // idempotent
    } finally {
      hook.disable();
    }
  });

  it('reports sane delay statistics and resets them', async () => {
    const monitor = startMonitor();
    await sleep(200);
    const idle = monitor.stats();
    expect(idle.samples).toBeGreaterThan(2);
    expect(idle.p50Ms).toBeGreaterThanOrEqual(0);
    expect(idle.p50Ms).toBeLessThan(25);
    expect(idle.p99Ms).toBeGreaterThanOrEqual(idle.p50Ms);
    expect(idle.maxMs).toBeGreaterThanOrEqual(idle.p99Ms);
    expect(idle.utilization).toBeGreaterThanOrEqual(0);
    expect(idle.utilization).toBeLessThanOrEqual(1);

    busyWait(BLOCK_MS);
    await sleep(monitor.sampleIntervalMs * 3);
    const blocked = monitor.stats();
    expect(blocked.maxMs).toBeGreaterThanOrEqual(100);
    expect(blocked.maxMs).toBeLessThan(1000);
    expect(blocked.utilization).toBeGreaterThan(idle.utilization);

    monitor.resetStats();
    expect(monitor.stats()).toMatchObject({ samples: 0, maxMs: 0, p99Ms: 0 });
  });

  it('rejects bad options p-queue style', () => {
    expect(() => createEventLoopMonitor({ thresholdMs: 0 })).toThrow(
      new TypeError('Expected `thresholdMs` to be a positive number, got `0` (number)'),
    );
    expect(() => createEventLoopMonitor({ mode: 'loud' as 'warn' })).toThrow(
      new TypeError("Expected `mode` to be 'report', 'warn' or 'throw', got `loud` (string)"),
    );
    expect(() => createEventLoopMonitor({ sampleIntervalMs: Number.NaN })).toThrow(
      new TypeError('Expected `sampleIntervalMs` to be a positive number of milliseconds up to 2147483647, got `NaN` (number)'),
    );
    expect(() => createEventLoopMonitor({ logger: {} as Console })).toThrow(
      new TypeError('Expected `logger` to be an object with a `warn` method, got `[object Object]` (object)'),
    );
    expect(createEventLoopMonitor()).toMatchObject({ thresholdMs: 50, mode: 'report', sampleIntervalMs: 25, running: false });
  });
});
