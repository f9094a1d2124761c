import type { AidocError } from '../errors/aidoc-error.ts';
import { abortError, toAidocError } from '../errors/to-aidoc-error.ts';
import type { Span } from '../tracing/span.ts';
import { currentSpan, runInSpan } from '../tracing/trace-context.ts';
import type { CompiledGraph } from './compile-graph.ts';
import { RunScope, siblingFailed } from './run-scope.ts';
import { runTask } from './run-task.ts';
import { isActivityTracked, taskEnded, taskStarted, type TaskActivity } from './task-activity.ts';
import type { RunOptions, TaskOutcome } from './task-definition.ts';

/** Shared by every task without dependencies; frozen so no task can leak state through it. */
const NO_DEPENDENCIES: Record<string, unknown> = Object.freeze({});

/**
 * How a run treats failure: `fail-fast` aborts every in-flight sibling at the first failure and
 * rejects with it; `settle` lets every independent task finish and reports each outcome
 * (dependents of a failed task are skipped).
 */
export type RunMode = 'fail-fast' | 'settle';

/** Runs a compiled graph; resolves with each task's value by index (fail-fast). */
export function runCompiledGraph(
  graph: CompiledGraph,
  input: unknown,
  options: RunOptions | undefined,
): Promise<unknown[]> {
  return new GraphRun(graph, input, options, 'fail-fast').start();
}

/** Runs a compiled graph; resolves with each task's outcome by index. */
export function settleCompiledGraph(
  graph: CompiledGraph,
  input: unknown,
  options: RunOptions | undefined,
): Promise<TaskOutcome<unknown>[]> {
  return new GraphRun(graph, input, options, 'settle').start() as Promise<TaskOutcome<unknown>[]>;
}

/**
 * One run of a graph. Each task starts in the microtask after its last dependency resolves
 * (a countdown per task, never level by level), so an unrelated slow sibling delays nothing.
 */
class GraphRun {
  private readonly graph: CompiledGraph;
  private readonly mode: RunMode;
  private readonly scope: RunScope;
  private readonly callerSignal: AbortSignal | undefined;
  private readonly remaining: Int32Array;
  private readonly values: unknown[];
  private readonly outcomes: (TaskOutcome<unknown> | undefined)[] | undefined;
  private settledCount = 0;
  private done = false;
  private resolveRun!: (value: unknown[]) => void;
  private rejectRun!: (error: AidocError) => void;

  constructor(graph: CompiledGraph, input: unknown, options: RunOptions | undefined, mode: RunMode) {
    this.graph = graph;
    this.mode = mode;
    this.callerSignal = options?.signal;
    const parentSpan = options?.trace === false ? undefined : currentSpan();
    this.scope = new RunScope(input, parentSpan, this.callerSignal);
    this.remaining = graph.dependencyCounts.slice();
    this.values = new Array<unknown>(graph.tasks.length);
    this.outcomes = mode === 'settle' ? new Array<TaskOutcome<unknown> | undefined>(graph.tasks.length) : undefined;
  }

  start(): Promise<unknown[]> {
    return new Promise<unknown[]>((resolve, reject) => {
      this.resolveRun = resolve;
      this.rejectRun = reject;
      const signal = this.callerSignal;
      if (signal?.aborted) {
        this.done = true;
        reject(abortError(signal));
        return;
      }
      signal?.addEventListener('abort', this.onCallerAbort, { once: true });
      if (this.graph.tasks.length === 0) {
        this.finish();
        return;
      }
      for (const index of this.graph.roots) this.startTask(index);
    });
  }

  private startTask(index: number): void {
    const task = this.graph.tasks[index]!;
    const dependencies: Record<string, unknown> = task.dependencyIndices.length === 0 ? NO_DEPENDENCIES : {};
    for (const dependency of task.dependencyIndices) {
      dependencies[this.graph.tasks[dependency]!.name] = this.values[dependency];
    }
    const parent = this.scope.parentSpan;
    const span = parent?.trace.startSpan(task.options?.spanName ?? task.name, 'task', parent);
    const activity = isActivityTracked() ? taskStarted(task.name, span) : undefined;
    const promise =
      span === undefined
        ? runTask(task, dependencies, this.scope, span, activity)
        : runInSpan(span, runTask, task, dependencies, this.scope, span, activity);
    promise.then(
      (value) => this.fulfilled(index, value, span, activity),
      (error: unknown) => this.rejected(index, error, span, activity),
    );
  }

  private fulfilled(index: number, value: unknown, span: Span | undefined, activity: TaskActivity | undefined): void {
    span?.finish();
    if (activity !== undefined) taskEnded(activity);
    if (this.done) return;
    this.values[index] = value;
    if (this.outcomes !== undefined) this.outcomes[index] = { status: 'fulfilled', value };
    this.settledCount++;
    for (const dependent of this.graph.tasks[index]!.dependentIndices) {
      if (--this.remaining[dependent]! === 0) this.startTask(dependent);
    }
    if (this.settledCount === this.graph.tasks.length) this.finish();
  }

  private rejected(index: number, error: unknown, span: Span | undefined, activity: TaskActivity | undefined): void {
    const failure = toAidocError(error);
    span?.finish(failure.code);
    if (activity !== undefined) taskEnded(activity);
    if (this.done) return;
    const task = this.graph.tasks[index]!;
    if (this.outcomes === undefined) {
      this.done = true;
      this.cleanup();
      this.scope.abort(siblingFailed(task.name, failure));
      this.rejectRun(failure);
      return;
    }
    this.outcomes[index] = { status: 'rejected', reason: failure };
    this.settledCount++;
    this.skipDependents(index, task.name);
    if (this.settledCount === this.graph.tasks.length) this.finish();
  }

  /** Settle mode: a task whose dependency failed or was skipped never runs. */
  private skipDependents(index: number, failedName: string): void {
    for (const dependent of this.graph.tasks[index]!.dependentIndices) {
      if (this.outcomes![dependent] !== undefined) continue;
      this.outcomes![dependent] = { status: 'skipped', dependency: failedName };
      this.settledCount++;
      this.skipDependents(dependent, this.graph.tasks[dependent]!.name);
    }
  }

  private readonly onCallerAbort = (): void => {
    if (this.done) return;
    this.done = true;
    const signal = this.callerSignal!;
    this.scope.abort(signal.reason);
    this.rejectRun(abortError(signal));
  };

  private finish(): void {
    this.done = true;
    this.cleanup();
    this.resolveRun((this.outcomes as unknown[] | undefined) ?? this.values);
  }

  private cleanup(): void {
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }
}
