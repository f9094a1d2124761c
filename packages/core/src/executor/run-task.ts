import { toAidocError } from '../errors/to-aidoc-error.ts';
import type { Span } from '../tracing/span.ts';
import { runWithPolicy } from './call-policy.ts';
import { ScopedTaskContext, type RunScope } from './run-scope.ts';
import { syncSliceMeasured, type TaskActivity } from './task-activity.ts';
import type { TaskContext, TaskOptions } from './task-definition.ts';

/**
 * The tasks of one run, by index, as `runTask` needs them. A graph run and a gather run each
 * answer these from their own data, so neither builds a task object per run.
 */
export interface RunnableTasks {
  readonly scope: RunScope;
  nameOf(index: number): string;
  optionsOf(index: number): TaskOptions | undefined;
  /** Calls task `index`'s function; it may return a value or a promise, or throw. */
  call(index: number, context: TaskContext<unknown>): unknown;
}

/** Runs one task: its function under the task's policies (see `runWithPolicy`). */
export function runTask(
  tasks: RunnableTasks,
  index: number,
  span: Span | undefined,
  activity: TaskActivity | undefined,
): Promise<unknown> {
  const scope = tasks.scope;
  const options = tasks.optionsOf(index);
  if (options === undefined) {
    return callTask(tasks, index, span === undefined ? scope : new ScopedTaskContext(scope, span), activity);
  }
  return runWithPolicy(
    (signal) => callTask(tasks, index, new ScopedTaskContext(scope, span, signal), activity),
    options,
    { signal: scope.signal, span, name: tasks.nameOf(index) },
  );
}

/**
 * Calls the task's function, turning a synchronous throw into a rejection. While an event-loop
 * monitor runs, it also measures the synchronous slice (the CPU time before the function's
 * first await), so a task that blocks the loop is named with its duration.
 */
function callTask(
  tasks: RunnableTasks,
  index: number,
  context: TaskContext<unknown>,
  activity: TaskActivity | undefined,
): Promise<unknown> {
  if (activity === undefined) {
    try {
      return Promise.resolve(tasks.call(index, context));
    } catch (error) {
      return Promise.reject(toAidocError(error));
    }
  }
  const startedAt = performance.now();
  let result: unknown;
  try {
    result = tasks.call(index, context);
  } catch (error) {
    try {
      measured(performance.now() - startedAt, activity);
    } catch {
      // The task's own error is the more useful one to report.
    }
    return Promise.reject(toAidocError(error));
  }
  try {
    measured(performance.now() - startedAt, activity);
  } catch (blocked) {
    // The task now fails with EVENT_LOOP_BLOCKED; its own outcome no longer matters.
    Promise.resolve(result).catch(ignore);
    return Promise.reject(toAidocError(blocked));
  }
  return Promise.resolve(result);
}

function ignore(): void {}

/** Records the slice; in the monitor's `throw` mode a blocking slice throws EVENT_LOOP_BLOCKED. */
function measured(elapsedMs: number, activity: TaskActivity): void {
  const span = activity.span;
  if (span !== undefined && elapsedMs > span.syncMs) span.syncMs = elapsedMs;
  syncSliceMeasured(activity, elapsedMs);
}
