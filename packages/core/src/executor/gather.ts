import { compileIndependent, type TaskDeclaration } from './compile-graph.ts';
import { runCompiledGraph, settleCompiledGraph } from './graph-run.ts';
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
export async function gather(
  calls: readonly GatherCall[] | Record<string, GatherCall>,
  options?: GatherOptions,
): Promise<unknown> {
  const { keys, graph } = compileCalls(calls, options);
  const values = await runCompiledGraph(graph, undefined, options);
  return reshape(keys, values);
}

/** Like `gather`, but every call runs to its end and each outcome is reported; nothing aborts. */
export function gatherSettled<const Calls extends readonly GatherCall[]>(calls: Calls, options?: GatherOptions): Promise<GatherOutcomes<Calls>>;
export function gatherSettled<Calls extends Record<string, GatherCall>>(calls: Calls, options?: GatherOptions): Promise<GatherOutcomes<Calls>>;
export async function gatherSettled(
  calls: readonly GatherCall[] | Record<string, GatherCall>,
  options?: GatherOptions,
): Promise<unknown> {
  const { keys, graph } = compileCalls(calls, options);
  const outcomes = await settleCompiledGraph(graph, undefined, options);
  return reshape(keys, outcomes);
}

function compileCalls(calls: readonly GatherCall[] | Record<string, GatherCall>, options: GatherOptions | undefined) {
  const isArray = Array.isArray(calls);
  const keys = isArray ? undefined : Object.keys(calls);
  const entries: readonly GatherCall[] = isArray ? calls : Object.values(calls);
  const names = keys ?? positionNames(entries.length);
  const taskOptions: TaskOptions | undefined =
    options?.pool === undefined && options?.timeoutMs === undefined && options?.retry === undefined
      ? undefined
      : { pool: options?.pool, timeoutMs: options?.timeoutMs, retry: options?.retry };
  const runs = new Array<TaskDeclaration['run']>(entries.length);
  for (let index = 0; index < entries.length; index++) {
    const call = entries[index];
    if (typeof call !== 'function') {
      throw new TypeError(`Expected gather call \`${names[index]}\` to be a function, got \`${String(call)}\` (${typeof call})`);
    }
    runs[index] = (_dependencies, context) => call(context as TaskContext<void>);
  }
  return { keys, graph: compileIndependent(names, runs, taskOptions) };
}

/** Names of array entries (`gather[3]`), built once and shared: gather sits on hot paths. */
const knownPositionNames: string[] = [];
function positionNames(count: number): readonly string[] {
  for (let next = knownPositionNames.length; next < count; next++) knownPositionNames.push(`gather[${next}]`);
  return knownPositionNames;
}

/** Arrays come back as arrays; objects as objects with the same keys. */
function reshape(keys: readonly string[] | undefined, values: unknown[]): unknown {
  if (keys === undefined) return values;
  const result: Record<string, unknown> = {};
  keys.forEach((key, index) => (result[key] = values[index]));
  return result;
}
