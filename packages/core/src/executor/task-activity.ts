import { performance } from 'node:perf_hooks';
import type { Span } from '../tracing/span.ts';

/**
 * One task the executor is running, as the event-loop monitor sees it: enough to name the task
 * behind a stall and to annotate its span.
 */
export interface TaskActivity {
  readonly name: string;
  readonly span: Span | undefined;
  /** `performance.now()` when the task started. */
  readonly startedAt: number;
}

/**
 * @internal The monitor's side of the hook. Only the event-loop monitor implements it; at most one
 * is attached at a time.
 */
export interface ActivityObserver {
  /** May throw (the monitor's `throw` mode); the error becomes the task's failure. */
  sliceMeasured(activity: TaskActivity, durationMs: number): void;
  taskEnded(activity: TaskActivity, endedAt: number): void;
}

// Module state rather than an object: the executor's hot path is one comparison when no monitor runs.
let observer: ActivityObserver | undefined;
const running = new Set<TaskActivity>();

/** True when a monitor is running; the executor skips all bookkeeping otherwise (hot path). */
export function isActivityTracked(): boolean {
  return observer !== undefined;
}

/**
 * The executor calls this when a task starts and `taskEnded` when it settles. Without a running
 * monitor the activity is returned but not remembered, so a stray call cannot leak.
 */
export function taskStarted(name: string, span: Span | undefined): TaskActivity {
  const activity: TaskActivity = { name, span, startedAt: performance.now() };
  if (observer !== undefined) running.add(activity);
  return activity;
}

/** The executor calls this when a task settles (fulfilled, rejected or aborted). */
export function taskEnded(activity: TaskActivity): void {
  if (running.delete(activity)) observer?.taskEnded(activity, performance.now());
}

/**
 * The executor measured the synchronous part of a task's function (from the call until it
 * returned its promise). Reports a blocking slice above the threshold to the monitor (event +
 * span annotation + `span.syncMs`), and in `throw` mode THROWS an AidocError
 * `EVENT_LOOP_BLOCKED` naming the task and its duration, which the executor turns into that
 * task's failure. Call it right after the measurement: the slice is taken to end now.
 */
export function syncSliceMeasured(activity: TaskActivity, durationMs: number): void {
  observer?.sliceMeasured(activity, durationMs);
}

/** The tasks started and not yet ended while a monitor runs, oldest first. */
export function runningTasks(): readonly TaskActivity[] {
  return [...running];
}

/** @internal The observer attached now, if any (the monitor enforces one per process). */
export function activityObserver(): ActivityObserver | undefined {
  return observer;
}

/** @internal Attaches the monitor; tasks already in flight stay unknown to it. */
export function attachActivityObserver(next: ActivityObserver): void {
  observer = next;
  running.clear();
}

/** @internal Detaches `current` if it is the one attached, and forgets the tasks in flight. */
export function detachActivityObserver(current: ActivityObserver): void {
  if (observer !== current) return;
  observer = undefined;
  running.clear();
}
