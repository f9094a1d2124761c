import { TaskRun, type RunMode } from './graph-run.ts';
import type { RunOptions, TaskContext, TaskOptions, TaskOutcome } from './task-definition.ts';

/** One call of `gather`: receives the run's signal (and span) and returns a value. */
export type GatherCall<Value = unknown> = (context: TaskContext<void>) => Promise<Value> | Value;

/** Run options plus the policies (pool, timeout, retry) applied to each call. */
export interface GatherOptions extends RunOptions, Omit<TaskOptions, 'spanName'> {}

type GatherResults<Calls> = { -readonly [K in keyof Calls]: Calls[K] extends GatherCall<infer Value> ? Awaited<Value> : never };
type GatherOutcomes<Calls> = {
  -readonly [K in keyof Calls]: Calls[K] extends GatherCall<infer Value> ? TaskOutcome<Awaited<Value>> : never;
};

/**
 * Runs independent calls concurrently and resolves with their results, typed, in the shape
 * given (an array/tuple or an object). The first failure aborts the others through their
 * signal and rejects with that failure; `options.signal` cancels them all.
 *
 * @example
 * ```ts
 * const { patient, collection } = await gather({
 *   patient: ({ signal }) => patients.getById(id, { signal }),
 *   collection: ({ signal }) => store.info('guidelines', { signal }),
 * }, { signal });
 * ```
 */
export function gather<const Calls extends readonly GatherCall[]>(calls: Calls, options?: GatherOptions): Promise<GatherResults<Calls>>;
export function gather<Calls extends Record<string, GatherCall>>(calls: Calls, options?: GatherOptions): Promise<GatherResults<Calls>>;
export function gather(calls: readonly GatherCall[] | Record<string, GatherCall>, options?: GatherOptions): Promise<unknown> {
  return startGather(calls, options, 'fail-fast');
}

/** Like `gather`, but every call runs to its end and each outcome is reported; nothing aborts. */
export function gatherSettled<const Calls extends readonly GatherCall[]>(calls: Calls, options?: GatherOptions): Promise<GatherOutcomes<Calls>>;
export function gatherSettled<Calls extends Record<string, GatherCall>>(calls: Calls, options?: GatherOptions): Promise<GatherOutcomes<Calls>>;
export function gatherSettled(calls: readonly GatherCall[] | Record<string, GatherCall>, options?: GatherOptions): Promise<unknown> {
  return startGather(calls, options, 'settle');
}

function startGather(calls: readonly GatherCall[] | Record<string, GatherCall>, options: GatherOptions | undefined, mode: RunMode): Promise<unknown> {
  const keys = Array.isArray(calls) ? undefined : Object.keys(calls);
  // A copy: a retry calls its entry again later, and the caller may have reused the array by then.
  const entries: readonly GatherCall[] = keys === undefined ? (calls as readonly GatherCall[]).slice() : Object.values(calls);
  for (let index = 0; index < entries.length; index++) {
    const call = entries[index];
    if (typeof call !== 'function') {
      const name = keys?.[index] ?? positionName(index);
      return Promise.reject(new TypeError(`Expected gather call \`${name}\` to be a function, got \`${String(call)}\` (${typeof call})`));
    }
  }
  return new GatherRun(entries, keys, options, mode).start();
}

/**
 * One run of `gather`: calls with no dependencies between them, so there is no graph to build;
 * each call is a task, named by its key (or `gather[i]`), under the gather's policies.
 */
class GatherRun extends TaskRun {
  private readonly calls: readonly GatherCall[];
  private readonly keys: readonly string[] | undefined;
  private readonly policy: TaskOptions | undefined;

  constructor(calls: readonly GatherCall[], keys: readonly string[] | undefined, options: GatherOptions | undefined, mode: RunMode) {
    super(calls.length, undefined, options, mode);
    this.calls = calls;
    this.keys = keys;
    this.policy =
      options?.pool === undefined && options?.timeoutMs === undefined && options?.retry === undefined
        ? undefined
        : { pool: options.pool, timeoutMs: options.timeoutMs, retry: options.retry };
  }

  nameOf(index: number): string {
    return this.keys?.[index] ?? positionName(index);
  }

  optionsOf(): TaskOptions | undefined {
    return this.policy;
  }

  call(index: number, context: TaskContext<unknown>): unknown {
    return this.calls[index]!(context as TaskContext<void>);
  }

  protected startRoots(): void {
    const startedAt = this.batchStart();
    for (let index = 0; index < this.calls.length; index++) this.startTask(index, startedAt);
  }

  // No call depends on another: a fulfilled one unblocks nothing, a failed one skips nothing.
  protected unblockDependents(): void {}

  protected skipDependents(): void {}

  /** Arrays come back as arrays; objects as objects with the same keys. */
  protected shape(byIndex: unknown[]): unknown {
    const keys = this.keys;
    if (keys === undefined) return byIndex;
    const result: Record<string, unknown> = {};
    for (let index = 0; index < keys.length; index++) result[keys[index]!] = byIndex[index];
    return result;
  }
}

/** Names of array entries (`gather[3]`), built once and shared: gather sits on hot paths. */
const knownPositionNames: string[] = [];
function positionName(index: number): string {
  for (let next = knownPositionNames.length; next <= index; next++) knownPositionNames.push(`gather[${next}]`);
  return knownPositionNames[index]!;
}
