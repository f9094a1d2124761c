import { toAidocError } from '../errors/to-aidoc-error.ts';
import type { Span } from '../tracing/span.ts';
import { withSpan } from '../tracing/trace-context.ts';
import { takeCpuTurn } from './cpu-turns.ts';
import type { ConcurrencyPool } from './pool.ts';
import { getPool } from './pool-registry.ts';
import { withRetry, type RetryOptions } from './retry.ts';
import { withTimeout } from './timeout.ts';

/** How one call runs: the shared pool that bounds it, its deadline, its retries. */
export interface CallPolicy {
  /**
   * A pool (or the name of one registered with `definePools`) bounding how many such calls are
   * in flight across the process. Each attempt waits for a slot; backoff holds none.
   */
  readonly pool?: string | ConcurrencyPool;
  /** Deadline of each attempt in milliseconds; past it the attempt fails with TIMEOUT. */
  readonly timeoutMs?: number;
  /** Retry retryable failures (TIMEOUT, RATE_LIMITED, UPSTREAM_UNAVAILABLE) with backoff. */
  readonly retry?: RetryOptions;
}

/**
 * Runs `attempt` under a policy. The layering is deliberate: retry outermost (a call backing off
 * holds no pool slot), then the pool (each attempt queues for a slot), then the timeout (which
 * bounds one attempt, not the queueing). `attempt` receives the signal to pass to its I/O.
 */
export function runWithPolicy<T>(
  attempt: (signal: AbortSignal | undefined) => Promise<T>,
  policy: CallPolicy,
  options: { readonly signal: AbortSignal | undefined; readonly span: Span | undefined; readonly name: string },
): Promise<T> {
  let step = attempt;
  const { timeoutMs, pool, retry } = policy;
  if (timeoutMs !== undefined) {
    const inner = step;
    step = (signal) => withTimeout(inner, timeoutMs, { signal: signal ?? options.signal, name: options.name });
  }
  if (pool !== undefined) {
    const resolved = typeof pool === 'string' ? getPool(pool) : pool;
    const inner = step;
    step = (signal) => resolved.run(inner, { signal: signal ?? options.signal, span: options.span });
  }
  if (retry !== undefined) {
    return withRetry((_attempt, signal) => step(signal), { ...retry, signal: options.signal, span: options.span });
  }
  return step(options.signal);
}

/**
 * One call to an upstream (an adapter method) the way core makes every such call: a `call`
 * span (`annotate` adds attributes such as a batch size), the policy's pool, timeout and retry,
 * and failures normalised to AidocError. Adapters stay thin: they translate, core orchestrates.
 *
 * The caller resumes in its own CPU turn ({@link takeCpuTurn}): when a thousand responses land in
 * the same millisecond, the work each caller does next is spread over event-loop iterations
 * instead of running back to back in one stall. The wait is outside the call's span, so the span
 * measures the upstream alone.
 */
export function callUpstream<T>(
  name: string,
  policy: CallPolicy,
  signal: AbortSignal | undefined,
  call: (signal: AbortSignal | undefined) => Promise<T>,
  annotate?: (span: Span) => void,
): Promise<T> {
  const result = withSpan(
    name,
    async (span) => {
      if (span !== undefined) annotate?.(span);
      try {
        return await runWithPolicy(call, policy, { signal, span, name });
      } catch (error) {
        throw toAidocError(error);
      }
    },
    'call',
  );
  return result.then(async (value) => {
    await takeCpuTurn(signal);
    return value;
  });
}
