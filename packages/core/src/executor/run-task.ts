import { toAidocError } from '../errors/to-aidoc-error.ts';
import type { Span } from '../tracing/span.ts';
import type { CompiledTask } from './compile-graph.ts';
import { runWithPolicy } from './call-policy.ts';
import { ScopedTaskContext, type RunScope } from './run-scope.ts';
import { syncSliceMeasured, type TaskActivity } from './task-activity.ts';
import type { TaskContext } from './task-definition.ts';

/** Runs one task: its function under the task's policies (see `runWithPolicy`). */
export function runTask(
  task: CompiledTask,
  dependencies: Record<string, unknown>,
  scope: RunScope,
  span: Span | undefined,
  activity: TaskActivity | undefined,
): Promise<unknown> {
  const options = task.options;
  if (options === undefined) {
    const context = span === undefined ? scope : new ScopedTaskContext(scope, span);
    return callTask(task, dependencies, context, activity);
  }
  return runWithPolicy(
    (signal) => callTask(task, dependencies, new ScopedTaskContext(scope, span, signal), activity),
    options,
    { signal: scope.signal, span, name: task.name },
  );
}

/**
 * Calls the task's function, turning a synchronous throw into a rejection. While an event-loop
 * monitor runs, it also measures the synchronous slice (the CPU time before the function's
 * first await), so a task that blocks the loop is named with its duration.
 */
function callTask(
  task: CompiledTask,
  dependencies: Record<string, unknown>,
  context: TaskContext<unknown>,
  activity: TaskActivity | undefined,
): Promise<unknown> {
  if (activity === undefined) {
    try {
      return Promise.resolve(task.run(dependencies, context));
    } catch (error) {
      return Promise.reject(toAidocError(error));
    }
  }
  const startedAt = performance.now();
  let result: unknown;
  try {
    result = task.run(dependencies, context);
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
