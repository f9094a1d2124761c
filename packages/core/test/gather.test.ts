import { getEventListeners } from 'node:events';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { gather, gatherSettled } from '../src/executor/gather.ts';
import { ConcurrencyPool } from '../src/executor/pool.ts';
import type { TaskOutcome } from '../src/executor/task-definition.ts';
import { rejectionOf } from '../src/testing/rejection-of.ts';
import { delay } from './support/delay.ts';
import { currentSpan, runTraced, withSpan } from '../src/tracing/trace-context.ts';

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

  it('turns a synchronous throw into the rejection, aborting the calls already started, and starts no call when one is not a function', async () => {
    let siblingSignal: AbortSignal | undefined;
    const error = await rejectionOf(
      gather([
        ({ signal }) => ((siblingSignal = signal), delay(10_000, 1, signal)),
        () => {
          throw new RangeError('bad index');
        },
      ]),
    );
    expect(error).toMatchObject({ code: 'INTERNAL', message: 'bad index' });
    expect(siblingSignal?.aborted).toBe(true);
    expect(siblingSignal?.reason).toMatchObject({ code: 'ABORTED', details: { failedTask: 'gather[1]' } });

    const started = vi.fn(() => 1);
    // @ts-expect-error: entries must be functions
    await expect(gather([started, 'not a call'])).rejects.toThrow(/gather call `gather\[1\]`/);
    expect(started).not.toHaveBeenCalled();
  });

  it('ignores what the other calls do after the first failure', async () => {
    const late = vi.fn();
    const error = await rejectionOf(
      gather({
        fails: () => delay(1, null).then(() => Promise.reject(new AidocError('NOT_FOUND', 'first'))),
        failsLater: () => delay(5, null).then(() => Promise.reject(new AidocError('UPSTREAM_UNAVAILABLE', 'second'))),
        succeedsLater: () => delay(5, 'value').then(late),
      }),
    );
    expect(error).toMatchObject({ code: 'NOT_FOUND', message: 'first' });
    await delay(10, null);
    expect(late).toHaveBeenCalledOnce();
  });

  it('rejects at once without calling anything when the signal is already aborted', async () => {
    const call = vi.fn(() => 1);
    const controller = new AbortController();
    controller.abort(new AidocError('TIMEOUT', 'request deadline'));
    await expect(gather([call], { signal: controller.signal })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(gatherSettled({ call }, { signal: controller.signal })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(call).not.toHaveBeenCalled();
  });

  it('gatherSettled keeps the shape and types of a tuple', async () => {
    const outcomes = await gatherSettled([() => 1, () => Promise.reject(new Error('boom'))] as const);
    expectTypeOf(outcomes[0]).toEqualTypeOf<TaskOutcome<number>>();
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: expect.objectContaining({ code: 'INTERNAL', message: 'boom' }) as unknown },
    ]);
  });
});

describe('gather: spans and context', () => {
  it('gives each call its own span for its nested work, and the caller its span back at once', async () => {
    const { trace } = await runTraced('fan-out', async (traced) => {
      const running = gather({
        embed: async () => {
          await withSpan('embed.sync', () => 1);
          await delay(2, null);
          return withSpan('embed.after-await', () => 1);
        },
        search: async () => {
          await delay(1, null);
          return withSpan('search.after-await', () => 2);
        },
      });
      expect(currentSpan()).toBe(traced.root);
      await running;
      expect(currentSpan()).toBe(traced.root);
    });
    const byName = new Map(trace.spans.map((span) => [span.name, span]));
    expect(byName.get('embed.sync')!.parent).toBe(byName.get('embed'));
    expect(byName.get('embed.after-await')!.parent).toBe(byName.get('embed'));
    expect(byName.get('search.after-await')!.parent).toBe(byName.get('search'));
    expect(byName.get('embed')!.parent).toBe(trace.root);
  });

  it('records no spans with trace: false, and marks a failed call and its aborted sibling', async () => {
    const quiet = await runTraced('quiet', () => gather([() => 1, () => 2], { trace: false }));
    expect(quiet.trace.spans).toHaveLength(1);

    const { trace } = await runTraced('failing', () =>
      gather({
        fails: () => Promise.reject(new AidocError('NOT_FOUND', 'x')),
        hangs: ({ signal }) => delay(10_000, 1, signal),
      }).catch(() => undefined),
    );
    await vi.waitFor(() => expect(trace.spans.find((span) => span.name === 'hangs')?.status).toBe('error'));
    expect(trace.spans.find((span) => span.name === 'fails')).toMatchObject({ status: 'error', errorCode: 'NOT_FOUND' });
    expect(trace.spans.find((span) => span.name === 'hangs')).toMatchObject({ errorCode: 'ABORTED' });
  });
});
