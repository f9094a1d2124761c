import { AidocError } from '../errors/aidoc-error.ts';
import type { Span } from '../tracing/span.ts';
import type { TaskContext } from './task-definition.ts';

/**
 * What the tasks of one run share: the input, the parent span, and the run's AbortSignal.
 * The AbortController is created on first use: tasks that never read `context.signal` (pure
 * computations, zero-latency steps) then cost no controller and no listener. An untraced task
 * without its own signal gets the scope itself as its context, so it costs no allocation.
 */
export class RunScope<Input = unknown> implements TaskContext<Input> {
  readonly input: Input;
  readonly parentSpan: Span | undefined;
  readonly span: undefined = undefined;
  private readonly callerSignal: AbortSignal | undefined;
  private controller: AbortController | undefined;

  constructor(input: Input, parentSpan: Span | undefined, callerSignal: AbortSignal | undefined) {
    this.input = input;
    this.parentSpan = parentSpan;
    this.callerSignal = callerSignal;
  }

  /** The run's signal: aborts when the caller aborts or the run fails fast. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      // The engine listens to the caller's signal once per run and calls `abort`; a controller
      // created after that only needs the current state.
      if (this.callerSignal?.aborted) this.controller.abort(this.callerSignal.reason);
    }
    return this.controller.signal;
  }

  /** Aborts every task still holding the run's signal. */
  abort(reason: unknown): void {
    this.controller?.abort(reason);
  }
}

/** A task's context; `signal` defaults to the run's (lazily created) signal. */
export class ScopedTaskContext<Input> implements TaskContext<Input> {
  private readonly scope: RunScope<Input>;
  private readonly ownSignal: AbortSignal | undefined;
  readonly span: Span | undefined;

  constructor(scope: RunScope<Input>, span: Span | undefined, ownSignal?: AbortSignal) {
    this.scope = scope;
    this.span = span;
    this.ownSignal = ownSignal;
  }

  get signal(): AbortSignal {
    return this.ownSignal ?? this.scope.signal;
  }

  get input(): Input {
    return this.scope.input;
  }
}

/** The reason siblings are aborted with when a task fails in a fail-fast run. */
export function siblingFailed(taskName: string, cause: AidocError): AidocError {
  return new AidocError('ABORTED', `Aborted because task "${taskName}" failed: ${cause.message}`, {
    cause,
    details: { failedTask: taskName },
  });
}
