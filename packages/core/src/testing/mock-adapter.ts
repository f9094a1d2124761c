import type { AidocError } from '../errors/aidoc-error.ts';
import { abortError, toAidocError } from '../errors/to-aidoc-error.ts';
import { expectPositiveInteger, invalidOption } from '../errors/validate-option.ts';
import { sleep, throwIfAborted } from '../executor/abort.ts';
import { takeCpuTurn } from '../executor/cpu-turns.ts';
import { withSpan } from '../tracing/trace-context.ts';
import {
  FaultPlan,
  rateLimitedError,
  unavailableError,
  validateFault,
  validateFaults,
  type SimulatedFault,
  type SimulatedFaults,
} from './simulated-faults.ts';
import { itemsMs, roundTripMs, validateLatency, type SimulatedLatency } from './simulated-latency.ts';

/** Where a recorded call stands. */
export type MockCallOutcome = 'pending' | 'resolved' | 'rejected';

/** One call a mock received, kept so tests can assert on inputs, order, timing and outcome. */
export interface MockCall<Method extends string, Input, Output> {
  /** 0-based arrival order among all calls of this mock (since the last `reset`). */
  readonly index: number;
  readonly method: Method;
  /** What the caller passed (without the signal). */
  readonly input: Input;
  /** `performance.now()` when the call arrived. */
  readonly startedAt: number;
  /** `performance.now()` when it settled; undefined while pending. */
  readonly endedAt: number | undefined;
  readonly durationMs: number | undefined;
  readonly outcome: MockCallOutcome;
  readonly result: Output | undefined;
  readonly error: AidocError | undefined;
  /**
   * False when the call was refused before any simulated I/O: an already-aborted signal or
   * invalid input (what a real adapter checks before it sends a request).
   */
  readonly reachedUpstream: boolean;
  /** The fault injected into this call, if any. */
  readonly fault: SimulatedFault | undefined;
}

/** What every mock offers besides its contract: the call log and fault injection. */
export interface MockControls<Call> {
  /** Every call since the last `reset`, in arrival order; records update as calls settle. */
  readonly calls: readonly Call[];
  /** Calls in flight right now; `0` once everything settled (the "nothing left behind" check). */
  readonly pending: number;
  /** The most calls that were in flight at once (since the last `reset`): checks pool limits. */
  readonly maxPending: number;
  /**
   * Makes the next `times` calls that reach the upstream fail with `fault`, before any script or
   * rate is consulted: the exact way to test one retry.
   * @param times - @default 1
   */
  failNext(fault: SimulatedFault, times?: number): void;
  /** Forgets recorded calls and queued faults; calls still in flight keep counting in `pending`. */
  reset(): void;
}

/** Options every mock takes. */
export interface MockAdapterOptions<Method extends string, Input> {
  /** Simulated I/O time; every wait is abortable. */
  readonly latency?: SimulatedLatency;
  /** Injected failures: rates, or a script deciding each call. */
  readonly faults?: SimulatedFaults<Method, Input>;
  /**
   * Records a `call` span (e.g. `mock-embedder.embed`) under the current span for every call.
   * Off by default because core already wraps adapter calls in spans; turn it on to trace code
   * that calls adapters directly.
   * @default false
   */
  readonly traced?: boolean;
  /**
   * Keep the call log (`calls`). Turn it off for load benchmarks: a mock serving thousands of
   * requests would otherwise hold every input and result, and its heap growth (and GC pauses)
   * would be measured as the library's.
   * @default true
   */
  readonly recordCalls?: boolean;
}

/** One call, as a mock describes it to {@link MockAdapter.simulate}. */
interface SimulatedCall<Method extends string, Input, Output> {
  readonly method: Method;
  readonly input: Input;
  readonly signal: AbortSignal | undefined;
  /** Items the call carries, for `latency.perItemMs`. */
  readonly items: number;
  /** Client-side checks (throw INVALID_INPUT); they run before anything reaches the upstream. */
  readonly validate?: () => void;
  /** True when there is nothing to send (an empty batch): `respond` runs at once, with no latency or fault. */
  readonly answersLocally?: boolean;
  /** The upstream's answer, computed once the simulated wait is over. */
  readonly respond: () => Output | Promise<Output>;
}

type MutableCall = { -readonly [Key in keyof MockCall<string, unknown, unknown>]: MockCall<string, unknown, unknown>[Key] };

/**
 * The one mechanism behind every mock: records the call, counts it in flight, refuses an
 * already-aborted signal, runs client-side checks, injects the fault, waits the simulated
 * latency (abortably) and races the answer against the signal.
 */
export abstract class MockAdapter<Call extends MockCall<string, unknown, unknown>> implements MockControls<Call> {
  readonly #name: string;
  readonly #latency: SimulatedLatency | undefined;
  readonly #plan: FaultPlan<Call['method'], Call['input']>;
  readonly #traced: boolean;
  readonly #recordCalls: boolean;
  #calls: Call[] = [];
  #pending = 0;
  #maxPending = 0;
  #upstreamCalls = 0;

  protected constructor(name: string, options: MockAdapterOptions<Call['method'], Call['input']>) {
    validateLatency('latency', options.latency);
    validateFaults('faults', options.faults);
    if (options.traced !== undefined && typeof options.traced !== 'boolean') throw invalidOption('traced', 'a boolean', options.traced);
    if (options.recordCalls !== undefined && typeof options.recordCalls !== 'boolean') throw invalidOption('recordCalls', 'a boolean', options.recordCalls);
    this.#name = name;
    this.#latency = options.latency;
    this.#plan = new FaultPlan(options.faults);
    this.#traced = options.traced ?? false;
    this.#recordCalls = options.recordCalls ?? true;
  }

  get calls(): readonly Call[] {
    return this.#calls;
  }

  get pending(): number {
    return this.#pending;
  }

  get maxPending(): number {
    return this.#maxPending;
  }

  failNext(fault: SimulatedFault, times = 1): void {
    validateFault('fault', fault);
    expectPositiveInteger('times', times);
    this.#plan.failNext(fault, times);
  }

  reset(): void {
    this.#calls = [];
    this.#maxPending = this.#pending;
    this.#upstreamCalls = 0;
    this.#plan.clear();
  }

  protected simulate<Output>(call: SimulatedCall<Call['method'], Call['input'], Output>): Promise<Output> {
    const record: MutableCall = {
      index: this.#calls.length,
      method: call.method,
      input: call.input,
      startedAt: performance.now(),
      endedAt: undefined,
      durationMs: undefined,
      outcome: 'pending',
      result: undefined,
      error: undefined,
      reachedUpstream: false,
      fault: undefined,
    };
    if (this.#recordCalls) this.#calls.push(record as Call);
    this.#pending++;
    this.#maxPending = Math.max(this.#maxPending, this.#pending);
    const execute = (): Promise<Output> => this.#execute(call, record);
    return this.#traced ? withSpan(`${this.#name}.${call.method}`, execute, 'call') : execute();
  }

  #resolve<Output>(record: MutableCall, result: Output): Output {
    record.outcome = 'resolved';
    record.result = result;
    return result;
  }

  async #execute<Output>(call: SimulatedCall<Call['method'], Call['input'], Output>, record: MutableCall): Promise<Output> {
    const { signal } = call;
    try {
      throwIfAborted(signal);
      call.validate?.();
      if (call.answersLocally === true) return this.#resolve(record, await call.respond());
      record.reachedUpstream = true;
      const fault = this.#plan.decide({ index: this.#upstreamCalls++, method: call.method, input: call.input });
      record.fault = fault;
      // A refused request costs a round trip, not the work.
      await wait(roundTripMs(this.#latency) + (fault === undefined ? itemsMs(this.#latency, call.items) : 0), signal);
      // A real upstream does its work on its own machine; the simulation does it here, so each
      // simulated response is prepared in its own CPU turn rather than all in one timer callback.
      await takeCpuTurn(signal);
      if (fault === 'hang') return await hang(signal);
      if (fault === 'rate-limited') throw rateLimitedError(this.#name, call.method, this.#plan.retryAfterMs);
      if (fault === 'unavailable') throw unavailableError(this.#name, call.method);
      if (fault !== undefined) throw fault;
      return this.#resolve(record, await raceAbort(Promise.resolve().then(call.respond), signal));
    } catch (error) {
      const failure = toAidocError(error);
      record.outcome = 'rejected';
      record.error = failure;
      throw failure;
    } finally {
      this.#pending--;
      record.endedAt = performance.now();
      record.durationMs = record.endedAt - record.startedAt;
    }
  }
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) {
    throwIfAborted(signal);
    return Promise.resolve();
  }
  return sleep(ms, signal);
}

/** Never settles until `signal` fires; then rejects with its abort error. */
function hang(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal === undefined) return;
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
  });
}

/** Settles with `promise`, or rejects as soon as `signal` fires; the listener goes either way. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  throwIfAborted(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : toAidocError(error));
      },
    );
  });
}
