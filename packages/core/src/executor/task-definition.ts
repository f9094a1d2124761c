import type { AidocError } from '../errors/aidoc-error.ts';
import type { Span } from '../tracing/span.ts';
import type { CallPolicy } from './call-policy.ts';

/** What a task's function receives besides its dependencies' results. */
export interface TaskContext<Input = unknown> {
  /**
   * Aborts when the run is cancelled: the caller's signal fired, a sibling failed (fail-fast
   * runs), or this task's timeout passed. Pass it to every I/O call the task makes.
   */
  readonly signal: AbortSignal;
  /** The task's span when the run is traced; record attributes on it. */
  readonly span: Span | undefined;
  /** The value given to `run(input)`, so one graph built once serves every request. */
  readonly input: Input;
}

/** A task's function: its dependencies' results in, its own result out. */
export type TaskFunction<Dependencies, Input, Result> = (
  dependencies: Dependencies,
  context: TaskContext<Input>,
) => Promise<Result> | Result;

/** How one task runs: which shared pool bounds it, its deadline, its retries. */
export interface TaskOptions extends CallPolicy {
  /** The span's name, when it should differ from the task's name (e.g. `embed` for `embedQuery`). */
  readonly spanName?: string;
}

/** One task's result in a settled run. */
export type TaskOutcome<Value> =
  | { readonly status: 'fulfilled'; readonly value: Value }
  | { readonly status: 'rejected'; readonly reason: AidocError }
  /** Not run because a task it depends on failed or was skipped. */
  | { readonly status: 'skipped'; readonly dependency: string };

/** Options of one run of a graph (and of `gather`). */
export interface RunOptions {
  /** Cancels the whole run: every in-flight task is aborted and the run rejects with ABORTED. */
  readonly signal?: AbortSignal;
  /**
   * Record a span per task when the run happens inside a trace (`runTraced`).
   * @default true
   */
  readonly trace?: boolean;
}
