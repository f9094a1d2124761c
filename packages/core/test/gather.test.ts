import { getEventListeners } from 'node:events';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { gather, gatherSettled } from '../src/executor/gather.ts';
import { ConcurrencyPool } from '../src/executor/pool.ts';
import { delay } from './support/delay.ts';
import { runTraced } from '../src/tracing/trace-context.ts';

describe('gather', () => {
  it('runs an object of calls concurrently and returns typed results by key', async () => {
    const startedAt = Date.now();
    const results = await gather({
      patient: () => delay(30, { id: 'p1' }),
      collection: () => delay(30, { points: 3 }),
      constant: () => 7,
    });
    expectTypeOf(results).toEqualTypeOf<{ patient: { id: string }; collection: { points: number }; constant: number }>();
    expect(results).toEqual({ patient: { id: 'p1' }, collection: { points: 3 }, constant: 7 });
    expect(Date.now() - startedAt).toBeLessThan(55);
  });

  it('runs a tuple of calls and keeps positions and types', async () => {
    const results = await gather([() => delay(5, 'a'), () => Promise.resolve(1), () => true] as const);
    expectTypeOf(results).toEqualTypeOf<[string, number, boolean]>();
    expect(results).toEqual(['a', 1, true]);
    await expect(gather([])).resolves.toEqual([]);
  });

  it('aborts the other calls at the first failure and rejects with it', async () => {
    const aborted: boolean[] = [];
    const error = await gather([
      ({ signal }) => delay(10_000, 1, signal).catch((failure: unknown) => (aborted.push(signal.aborted), Promise.reject(failure as Error))),
      () => delay(5, null).then(() => Promise.reject(new AidocError('RATE_LIMITED', '429', { retryAfterMs: 1000 }))),
    ]).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(aborted).toEqual([true]);
  });

  it('is cancelled by the caller signal and leaves no listener behind', async () => {
    const controller = new AbortController();
    const run = gather({ a: ({ signal }) => delay(10_000, 1, signal) }, { signal: controller.signal });
    controller.abort();
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('applies the pool and timeout to each call', async () => {
    const pool = new ConcurrencyPool({ name: 'test', concurrency: 2 });
    let inFlight = 0;
    let peak = 0;
    const call = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await delay(5, null);
      inFlight--;
      return 1;
    };
    await gather(Array.from({ length: 10 }, () => call), { pool });
    expect(peak).toBe(2);
    await expect(gather({ slow: ({ signal }) => delay(1_000, 1, signal) }, { timeoutMs: 10 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('gatherSettled reports every outcome without aborting', async () => {
    let siblingAborted: boolean | undefined;
    const outcomes = await gatherSettled({
      fails: () => Promise.reject(new AidocError('NOT_FOUND', 'missing')),
      slow: ({ signal }) => delay(10, 'ok', signal).finally(() => (siblingAborted = signal.aborted)),
    });
    expect(outcomes.fails).toMatchObject({ status: 'rejected', reason: { code: 'NOT_FOUND' } });
    expect(outcomes.slow).toEqual({ status: 'fulfilled', value: 'ok' });
    expect(siblingAborted).toBe(false);
  });

  it('records one span per call, named by key', async () => {
    const { trace } = await runTraced('fan-out', () => gather({ embed: () => delay(1, 1), search: () => delay(1, 2) }));
    expect(trace.spans.map((span) => span.name).sort()).toEqual(['embed', 'fan-out', 'search']);
    expect(trace.spans.filter((span) => span.kind === 'task').every((span) => span.parent === trace.root)).toBe(true);
  });

  it('rejects a non-function entry with a TypeError naming it', async () => {
    // @ts-expect-error: entries must be functions
    await expect(gather({ a: 1 })).rejects.toThrow(/gather call `a`/);
  });
});
