import type { AidocError } from '../errors/aidoc-error.ts';
import { abortError, toAidocError } from '../errors/to-aidoc-error.ts';
import type { Span } from '../tracing/span.ts';
import { currentSpan, enterSpan } from '../tracing/trace-context.ts';
import type { CompiledGraph, CompiledTask } from './compile-graph.ts';
import { RunScope, siblingFailed } from './run-scope.ts';
import { runTask, type RunnableTasks } from './run-task.ts';
import { isActivityTracked, taskEnded, taskStarted, type TaskActivity } from './task-activity.ts';
import type { RunOptions, TaskContext, TaskOptions, TaskOutcome } from './task-definition.ts';

/**
 * How a run treats failure: `fail-fast` aborts every in-flight sibling at the first failure and
 * rejects with it; `settle` lets every independent task finish and reports each outcome
 * (dependents of a failed task are skipped).
 */
export type RunMode = 'fail-fast' | 'settle';

/**
 * One run of a set of tasks: starts them (each under its span and policies), collects their
 * values (or, in settle mode, their outcomes), and handles failure and cancellation. A graph run
 * and a gather run differ only in what a task is and what a fulfilled task unblocks, which
 * subclasses say; everything else lives here once.
 */
export abstract class TaskRun implements RunnableTasks {
  readonly scope: RunScope;
  /** Each task's value by index; a subclass reads its dependencies' values here. */
  protected readonly values: unknown[];
  private readonly taskCount: number;
  private readonly callerSignal: AbortSignal | undefined;
  private readonly outcomes: (TaskOutcome<unknown> | undefined)[] | undefined;
  private settledCount = 0;
  private done = false;
  private resolveRun!: (result: unknown) => void;
  private rejectRun!: (error: AidocError) => void;

  constructor(taskCount: number, input: unknown, options: RunOptions | undefined, mode: RunMode) {
    this.taskCount = taskCount;
    this.callerSignal = options?.signal;
    const parentSpan = options?.trace === false ? undefined : currentSpan();
    this.scope = new RunScope(input, parentSpan, this.callerSignal);
    this.values = new Array<unknown>(taskCount);
    this.outcomes = mode === 'settle' ? new Array<TaskOutcome<unknown> | undefined>(taskCount) : undefined;
  }

  abstract nameOf(index: number): string;
  abstract optionsOf(index: number): TaskOptions | undefined;
  abstract call(index: number, context: TaskContext<unknown>): unknown;
  /** Starts, with `startTask`, the tasks that wait for nothing. */
  protected abstract startRoots(): void;
  /** Task `index` fulfilled (its value is in `values`): starts, with `startTask`, what waited on it last. */
  protected abstract unblockDependents(index: number): void;
  /** Settle mode: task `index` failed or was skipped; skips whatever depends on it. */
  protected abstract skipDependents(index: number): void;
  /** The run's result: the values (or outcomes) by index, shaped as the caller declared the tasks. */
  protected abstract shape(byIndex: unknown[]): unknown;

  /** Resolves with `shape(values)`, or `shape(outcomes)` in settle mode. */
  start(): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      this.resolveRun = resolve;
      this.rejectRun = reject;
      const signal = this.callerSignal;
      if (signal?.aborted) {
        this.done = true;
        reject(abortError(signal));
        return;
      }
      signal?.addEventListener('abort', this.onCallerAbort, { once: true });
      if (this.taskCount === 0) {
        this.finish();
        return;
      }
      try {
        this.startRoots();
      } finally {
        // Each traced root entered its span (see `startTask`): the caller's code gets its own back.
        if (this.scope.parentSpan !== undefined) enterSpan(this.scope.parentSpan);
      }
    });
  }

  /**
   * One clock read for tasks started together (a gather's calls, a graph's roots, the dependents
   * one task unblocks): their spans start in the same synchronous loop, microseconds apart, and
   * clock reads were an eighth of a traced fan-out's CPU profile, half of them these. Undefined
   * when untraced.
   */
  protected batchStart(): number | undefined {
    return this.scope.parentSpan?.trace.now();
  }

  /**
   * Starts one task. A traced task becomes current by entering its span rather than by running
   * in it (`runInSpan`): every switch of async context allocates, and `runInSpan` switches twice,
   * in and back, where the tasks of a batch switch once each and the roots' batch switches back
   * once at its end. Dependents start inside a promise job, whose context ends with the job, so
   * they need no switch back. The run's handlers therefore run in some task's context: they take
   * the span they need as an argument, never from the context.
   */
  protected startTask(index: number, startedAt?: number): void {
    const parent = this.scope.parentSpan;
    const span = parent?.trace.startSpan(this.optionsOf(index)?.spanName ?? this.nameOf(index), 'task', parent, startedAt);
    const activity = isActivityTracked() ? taskStarted(this.nameOf(index), span) : undefined;
    if (span !== undefined) enterSpan(span);
    const promise = runTask(this, index, span, activity);
    promise.then(
      (value) => this.fulfilled(index, value, span, activity),
      (error: unknown) => this.rejected(index, error, span, activity),
    );
  }

  /** Settle mode: records that task `index` never ran because `dependency` failed or was skipped. */
  protected skip(index: number, dependency: string): void {
    const outcomes = this.outcomes!;
    if (outcomes[index] !== undefined) return;
    outcomes[index] = { status: 'skipped', dependency };
    this.settledCount++;
    this.skipDependents(index);
  }

  private fulfilled(index: number, value: unknown, span: Span | undefined, activity: TaskActivity | undefined): void {
    span?.finish();
    if (activity !== undefined) taskEnded(activity);
    if (this.done) return;
    this.values[index] = value;
    if (this.outcomes !== undefined) this.outcomes[index] = { status: 'fulfilled', value };
    this.settledCount++;
    this.unblockDependents(index);
    if (this.settledCount === this.taskCount) this.finish();
  }

  private rejected(index: number, error: unknown, span: Span | undefined, activity: TaskActivity | undefined): void {
    const failure = toAidocError(error);
    span?.finish(failure.code);
    if (activity !== undefined) taskEnded(activity);
    if (this.done) return;
    if (this.outcomes === undefined) {
      this.done = true;
      this.removeCallerListener();
      this.scope.abort(siblingFailed(this.nameOf(index), failure));
      this.rejectRun(failure);
      return;
    }
    this.outcomes[index] = { status: 'rejected', reason: failure };
    this.settledCount++;
    this.skipDependents(index);
    if (this.settledCount === this.taskCount) this.finish();
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
    this.removeCallerListener();
    this.resolveRun(this.shape((this.outcomes as unknown[] | undefined) ?? this.values));
  }

  private removeCallerListener(): void {
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }
}

/** Shared by every task without dependencies; frozen so no task can leak state through it. */
const NO_DEPENDENCIES: Record<string, unknown> = Object.freeze({});

/**
 * One run of a compiled graph. Each task starts in the microtask after its last dependency
 * resolves (a countdown per task, never level by level), so an unrelated slow sibling delays
 * nothing. Resolves with the values (or outcomes) by task name.
 */
export class GraphRun extends TaskRun {
  private readonly tasks: readonly CompiledTask[];
  private readonly roots: readonly number[];
  private readonly remaining: number[];

  constructor(graph: CompiledGraph, input: unknown, options: RunOptions | undefined, mode: RunMode) {
    super(graph.tasks.length, input, options, mode);
    this.tasks = graph.tasks;
    this.roots = graph.roots;
    this.remaining = graph.dependencyCounts.slice();
  }

  nameOf(index: number): string {
    return this.tasks[index]!.name;
  }

  optionsOf(index: number): TaskOptions | undefined {
    return this.tasks[index]!.options;
  }

  call(index: number, context: TaskContext<unknown>): unknown {
    const task = this.tasks[index]!;
    return task.run(this.dependenciesOf(task), context);
  }

  protected startRoots(): void {
    const startedAt = this.batchStart();
    for (const index of this.roots) this.startTask(index, startedAt);
  }

  protected unblockDependents(index: number): void {
    let startedAt: number | undefined;
    for (const dependent of this.tasks[index]!.dependentIndices) {
      if (--this.remaining[dependent]! === 0) this.startTask(dependent, (startedAt ??= this.batchStart()));
    }
  }

  protected skipDependents(index: number): void {
    const name = this.tasks[index]!.name;
    for (const dependent of this.tasks[index]!.dependentIndices) this.skip(dependent, name);
  }

  protected shape(byIndex: unknown[]): Record<string, unknown> {
    const results: Record<string, unknown> = {};
    for (const task of this.tasks) results[task.name] = byIndex[task.index];
    return results;
  }

  /** The results of the task's dependencies, by name. */
  private dependenciesOf(task: CompiledTask): Record<string, unknown> {
    if (task.dependencyIndices.length === 0) return NO_DEPENDENCIES;
    const dependencies: Record<string, unknown> = {};
    for (const dependency of task.dependencyIndices) dependencies[this.tasks[dependency]!.name] = this.values[dependency];
    return dependencies;
  }
}
