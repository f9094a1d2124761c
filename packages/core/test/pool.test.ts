import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { ConcurrencyPool } from '../src/executor/pool.ts';
import { withRetry } from '../src/executor/retry.ts';
import { currentSpan, runInSpan, startTrace } from '../src/tracing/trace-context.ts';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((settle, fail) => {
    resolve = settle;
    reject = fail;
  });
  return { promise, resolve, reject };
}

const flush = async (): Promise<void> => {
  for (let tick = 0; tick < 10; tick++) await Promise.resolve();
};

describe('ConcurrencyPool: limits and order (real timers)', () => {
  it('never runs more than `concurrency` of 100 random-delay tasks, and starts them FIFO', async () => {
    const pool = new ConcurrencyPool({ name: 'invariant', concurrency: 4 });
    let running = 0;
    let maxRunning = 0;
    const started: number[] = [];
    const tasks = Array.from({ length: 100 }, (_, index) =>
      pool.run(async () => {
        started.push(index);
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        expect(pool.activeCount).toBeLessThanOrEqual(4);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
        running -= 1;
        return index * 2;
      }),
    );
    expect(pool.activeCount).toBe(4);
    expect(pool.pendingCount).toBe(96);
    const results = await Promise.all(tasks);
    expect(results).toEqual(Array.from({ length: 100 }, (_, index) => index * 2));
    expect(maxRunning).toBe(4);
    expect(started).toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect(pool.activeCount).toBe(0);
    expect(pool.pendingCount).toBe(0);
  });

  it('keeps the limit when tasks fail, throw synchronously or are aborted at random', async () => {
    const pool = new ConcurrencyPool({ name: 'chaos', concurrency: 3 });
    let running = 0;
    let maxRunning = 0;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 100 }, (_, index) => {
        const controller = new AbortController();
        if (index % 7 === 0) setTimeout(() => controller.abort(), Math.random() * 10);
        return pool.run(
          (): Promise<number> => {
            if (index % 11 === 0) throw new Error('sync');
            running += 1;
            maxRunning = Math.max(maxRunning, running);
            return new Promise<number>((resolve, reject) =>
              setTimeout(() => {
                running -= 1;
                if (index % 5 === 0) reject(new Error('async'));
                else resolve(index);
              }, Math.random() * 3),
            );
          },
          { signal: controller.signal },
        );
      }),
    );
    expect(maxRunning).toBe(3);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled').length).toBeGreaterThan(0);
    await pool.onIdle();
    expect(pool.activeCount).toBe(0);
    expect(pool.pendingCount).toBe(0);
  });
});

describe('ConcurrencyPool', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("passes the caller's signal to fn and fn's own error through unchanged", async () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1 });
    const controller = new AbortController();
    const fn = vi.fn((_signal: AbortSignal | undefined) => Promise.resolve('ok'));
    await expect(pool.run(fn, { signal: controller.signal })).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledWith(controller.signal);
    const own = new AidocError('NOT_FOUND', 'gone');
    await expect(pool.run(() => Promise.reject(own))).rejects.toBe(own);
    const thrown = new Error('sync');
    await expect(
      pool.run(() => {
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    expect(pool.activeCount).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('removes a call aborted while queued at once, without calling it', async () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1 });
    const blocker = deferred();
    const first = pool.run(() => blocker.promise);
    const controller = new AbortController();
    const second = vi.fn(() => Promise.resolve('second'));
    const third = vi.fn(() => Promise.resolve('third'));
    const queued = pool.run(second, { signal: controller.signal });
    const after = pool.run(third);
    expect(pool.pendingCount).toBe(2);
    expect(listeners(controller.signal)).toBe(1);

    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
    expect(pool.pendingCount).toBe(1);
    expect(listeners(controller.signal)).toBe(0);

    blocker.resolve();
    await first;
    await expect(after).resolves.toBe('third');
    expect(second).not.toHaveBeenCalled();
  });

  it("rejects with the signal's AidocError reason, and refuses an already-aborted signal", async () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1 });
    const blocker = deferred();
    const first = pool.run(() => blocker.promise);
    const controller = new AbortController();
    const queued = pool.run(() => Promise.resolve(1), { signal: controller.signal });
    const timeout = new AidocError('TIMEOUT', 'deadline');
    controller.abort(timeout);
    await expect(queued).rejects.toBe(timeout);
    const fn = vi.fn(() => Promise.resolve(1));
    await expect(pool.run(fn, { signal: controller.signal })).rejects.toBe(timeout);
    expect(fn).not.toHaveBeenCalled();
    expect(pool.pendingCount).toBe(0);
    blocker.resolve();
    await first;
  });

  it('does not start a call whose signal fired between being handed a slot and starting', async () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1 });
    const blocker = deferred();
    const first = pool.run(() => blocker.promise);
    const controller = new AbortController();
    const fn = vi.fn(() => Promise.resolve(1));
    const queued = pool.run(fn, { signal: controller.signal });
    // Raising the concurrency hands the slot over synchronously; the abort lands before the
    // queued call's continuation runs.
    pool.concurrency = 2;
    expect(pool.pendingCount).toBe(0);
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
    expect(fn).not.toHaveBeenCalled();
    expect(pool.activeCount).toBe(1);
    blocker.resolve();
    await first;
    expect(pool.activeCount).toBe(0);
  });

  it('pauses the whole pool on RATE_LIMITED with Retry-After: no queued call starts until it passes', async () => {
    const pool = new ConcurrencyPool({ name: 'embedder', concurrency: 2 });
    const startedAt: Record<string, number> = {};
    const call = (name: string, work: () => Promise<string> = () => Promise.resolve(name)) =>
      pool.run(() => {
        startedAt[name] = Date.now();
        return work();
      });
    const origin = Date.now();
    const limited = call('limited', async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw new AidocError('RATE_LIMITED', '429', { retryAfterMs: 1000 });
    });
    const slow = call('slow', () => new Promise((resolve) => setTimeout(() => resolve('slow'), 5000)));
    const queued = ['a', 'b', 'c'].map((name) => call(name));
    const limitedOutcome = expect(limited).rejects.toMatchObject({ code: 'RATE_LIMITED' });

    await vi.advanceTimersByTimeAsync(10);
    await limitedOutcome;
    expect(pool.pausedUntil).toBe(origin + 1010);
    // A slot is free, yet nothing starts during the pause, not even a newcomer.
    const late = call('late');
    await vi.advanceTimersByTimeAsync(999);
    expect(Object.keys(startedAt).sort()).toEqual(['limited', 'slow']);
    expect(pool.pendingCount).toBe(4);

    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([...queued, late]);
    expect(startedAt.a).toBe(origin + 1010);
    expect(startedAt.b).toBe(origin + 1010);
    expect(startedAt.c).toBe(origin + 1010);
    expect(startedAt.late).toBe(origin + 1010);
    expect(pool.pausedUntil).toBeUndefined();
    await vi.advanceTimersByTimeAsync(5000);
    await expect(slow).resolves.toBe('slow');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('makes callers that retry on their own queue behind the pause', async () => {
    const pool = new ConcurrencyPool({ name: 'llm', concurrency: 2 });
    const starts: number[] = [];
    const origin = Date.now();
    const upstream = async (): Promise<string> => {
      starts.push(Date.now() - origin);
      const isFirst = starts.length === 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (isFirst) throw new AidocError('RATE_LIMITED', '429', { retryAfterMs: 2000 });
      return 'ok';
    };
    const results = Array.from({ length: 3 }, (_, index) =>
      withRetry(() => pool.run(upstream), { baseDelayMs: 100, random: () => 1 }).then((value) => `${index}:${value}`),
    );
    await vi.advanceTimersByTimeAsync(3000);
    await expect(Promise.all(results)).resolves.toEqual(['0:ok', '1:ok', '2:ok']);
    // Two start at once; the 429 comes at 5 ms. The third caller, never refused itself, would
    // have taken the freed slot at 5 ms; it waits for the pause like the refused caller's retry.
    expect(starts).toEqual([0, 0, 2005, 2005]);
  });

  it('stays FIFO when a pause has ended but its wake-up timer has not fired yet', async () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1 });
    const order: string[] = [];
    pool.pauseFor(100);
    const queued = pool.run(() => Promise.resolve(order.push('queued')));
    // The clock passes the pause's end before the (late) timer fires; a newcomer must not jump the queue.
    const later = performance.now() + 150;
    vi.spyOn(performance, 'now').mockImplementation(() => later);
    try {
      const newcomer = pool.run(() => Promise.resolve(order.push('newcomer')));
      await Promise.all([queued, newcomer]);
    } finally {
      vi.restoreAllMocks();
    }
    expect(order).toEqual(['queued', 'newcomer']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('extends a pause with a longer one and never shortens it', () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1 });
    const origin = Date.now();
    pool.pauseFor(5000);
    pool.pauseFor(100);
    expect(pool.pausedUntil).toBe(origin + 5000);
    pool.pauseFor(8000);
    expect(pool.pausedUntil).toBe(origin + 8000);
    // Nobody queued: nothing to wake, so no timer keeps the process alive.
    expect(vi.getTimerCount()).toBe(0);
    expect(() => pool.pauseFor(-1)).toThrow(TypeError);
  });

  it('caps a pause learnt from Retry-After at maxPauseMs', async () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1, maxPauseMs: 3000 });
    const origin = Date.now();
    await expect(
      pool.run(() => Promise.reject(new AidocError('RATE_LIMITED', '429', { retryAfterMs: 3_600_000 }))),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(pool.pausedUntil).toBe(origin + 3000);
  });

  it('ignores RATE_LIMITED without Retry-After and other errors', async () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1 });
    await expect(pool.run(() => Promise.reject(new AidocError('RATE_LIMITED', '429')))).rejects.toThrow();
    await expect(
      pool.run(() => Promise.reject(new AidocError('UPSTREAM_UNAVAILABLE', '503', { retryAfterMs: 1000 }))),
    ).rejects.toThrow();
    expect(pool.pausedUntil).toBeUndefined();
  });

  it('drops its wake timer when the last caller queued behind a pause aborts', async () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1 });
    pool.pauseFor(10_000);
    const controller = new AbortController();
    const queued = pool.run(() => Promise.resolve(1), { signal: controller.signal });
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
    expect(vi.getTimerCount()).toBe(0);
    await expect(pool.onIdle()).resolves.toBeUndefined();
  });

  it('starts at most `limit` calls in any sliding interval', async () => {
    const pool = new ConcurrencyPool({ name: 'rated', concurrency: Infinity, rate: { limit: 3, intervalMs: 1000 } });
    const origin = Date.now();
    const starts: number[] = [];
    const run = () => pool.run(() => Promise.resolve(starts.push(Date.now() - origin)));
    const burst = Array.from({ length: 7 }, run);
    await vi.advanceTimersByTimeAsync(2500);
    await Promise.all(burst);
    expect(starts).toEqual([0, 0, 0, 1000, 1000, 1000, 2000]);

    // Spread starts: the window slides, it does not reset on a boundary.
    starts.length = 0;
    await vi.advanceTimersByTimeAsync(5000 - (Date.now() - origin)); // t = 5000
    const spread: Promise<unknown>[] = [];
    for (const at of [0, 400, 800, 900, 1000]) {
      await vi.advanceTimersByTimeAsync(at - (Date.now() - origin - 5000));
      spread.push(run());
    }
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(spread);
    expect(starts).toEqual([5000, 5400, 5800, 6000, 6400]);
    for (const start of starts) {
      expect(starts.filter((other) => other >= start && other < start + 1000).length).toBeLessThanOrEqual(3);
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps the recent starts when the rate is reconfigured', async () => {
    const pool = new ConcurrencyPool({ name: 'rated', concurrency: Infinity, rate: { limit: 2, intervalMs: 1000 } });
    const origin = Date.now();
    const starts: number[] = [];
    const run = () => pool.run(() => Promise.resolve(starts.push(Date.now() - origin)));
    await Promise.all([run(), run()]);
    pool.rate = { limit: 3, intervalMs: 1000 }; // one more start fits in the current window
    const more = [run(), run()];
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(more);
    expect(starts).toEqual([0, 0, 0, 1000]);
    pool.rate = undefined;
    await Promise.all([run(), run(), run(), run()]);
    expect(starts).toHaveLength(8);
    expect(() => (pool.rate = { limit: 1, intervalMs: -1 })).toThrow(/`rate.intervalMs`/);
  });

  it('records the time a call waited for a slot, pause included, into its span', async () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1 });
    const trace = startTrace('request');
    const first = trace.startSpan('first', 'call', trace.root);
    const second = trace.startSpan('second', 'call', trace.root);
    let seenByFn: unknown;
    const running = runInSpan(first, () => pool.run(() => new Promise((resolve) => setTimeout(resolve, 100))));
    const waiting = runInSpan(second, () =>
      pool.run(() => {
        // Started from the first call's completion, yet it runs in its own caller's context.
        seenByFn = currentSpan();
        return Promise.resolve();
      }),
    );
    await vi.advanceTimersByTimeAsync(50);
    pool.pauseFor(200); // until t = 250
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([running, waiting]);
    expect(first.queuedMs).toBe(0);
    expect(second.queuedMs).toBe(250);
    expect(seenByFn).toBe(second);
  });

  it('starts queued calls when concurrency is raised', async () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1 });
    const blocker = deferred();
    const first = pool.run(() => blocker.promise);
    const second = pool.run(() => Promise.resolve('second'));
    await flush();
    expect(pool.pendingCount).toBe(1);
    pool.concurrency = 2;
    await expect(second).resolves.toBe('second');
    expect(() => (pool.concurrency = 0)).toThrow(
      new TypeError('Expected `concurrency` to be a positive integer or Infinity, got `0` (number)'),
    );
    blocker.resolve();
    await first;
  });

  it('resolves onIdle once nothing runs or waits', async () => {
    const pool = new ConcurrencyPool({ name: 'p', concurrency: 1 });
    await expect(pool.onIdle()).resolves.toBeUndefined();
    const blocker = deferred();
    const first = pool.run(() => blocker.promise);
    const second = pool.run(() => Promise.resolve());
    let idle = false;
    const whenIdle = pool.onIdle().then(() => (idle = true));
    await flush();
    expect(idle).toBe(false);
    blocker.resolve();
    await Promise.all([first, second, whenIdle]);
    expect(idle).toBe(true);
  });

  it('validates its options p-queue style', () => {
    expect(() => new ConcurrencyPool({ name: 'p', concurrency: 0 })).toThrow(
      new TypeError('Expected `concurrency` to be a positive integer or Infinity, got `0` (number)'),
    );
    expect(() => new ConcurrencyPool({ name: 'p', concurrency: 1.5 })).toThrow(TypeError);
    expect(() => new ConcurrencyPool({ name: '', concurrency: 1 })).toThrow(/`name`/);
    expect(() => new ConcurrencyPool({ name: 'p', concurrency: 1, rate: { limit: 0, intervalMs: 1000 } })).toThrow(
      /`rate.limit`/,
    );
    expect(() => new ConcurrencyPool({ name: 'p', concurrency: 1, rate: { limit: 1, intervalMs: 0 } })).toThrow(
      /`rate.intervalMs`/,
    );
    expect(() => new ConcurrencyPool({ name: 'p', concurrency: 1, maxPauseMs: -5 })).toThrow(/`maxPauseMs`/);
  });
});
