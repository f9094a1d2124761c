import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { withRetry, type RetryInfo } from '../src/executor/retry.ts';
import { runInSpan, startTrace } from '../src/tracing/trace-context.ts';

const unavailable = (message = '503'): AidocError => new AidocError('UPSTREAM_UNAVAILABLE', message);

/** A call that fails with the given errors in turn, then returns `value`. */
function failing<T>(errors: Error[], value: T): ReturnType<typeof vi.fn<(attempt: number, signal: AbortSignal | undefined) => Promise<T>>> {
  let call = 0;
  return vi.fn((_attempt: number, _signal: AbortSignal | undefined) => {
    const error = errors[call++];
    return error === undefined ? Promise.resolve(value) : Promise.reject(error);
  });
}

describe('withRetry', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries retryable failures and returns the first success', async () => {
    const fn = failing([unavailable(), new AidocError('TIMEOUT', 'slow')], 'done');
    const result = withRetry(fn, { random: () => 0 });
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('done');
    expect(fn.mock.calls.map(([attempt]) => attempt)).toEqual([1, 2, 3]);
  });

  it('stops at the bound and rethrows the last error', async () => {
    const errors = [unavailable('first'), unavailable('second'), unavailable('third'), unavailable('never')];
    const fn = failing(errors, 'unreachable');
    const outcome = expect(withRetry(fn, { attempts: 3, random: () => 0 })).rejects.toBe(errors[2]);
    await vi.runAllTimersAsync();
    await outcome;
    expect(fn).toHaveBeenCalledTimes(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never retries a non-retryable error, and normalises what it throws', async () => {
    const notFound = new AidocError('NOT_FOUND', 'no patient');
    const fn = failing([notFound], 'unreachable');
    await expect(withRetry(fn)).rejects.toBe(notFound);
    expect(fn).toHaveBeenCalledTimes(1);

    const bug = new TypeError('undefined is not a function');
    const buggy = failing([bug], 'unreachable');
    const error = await withRetry(buggy).catch((caught: unknown) => caught);
    expect(AidocError.hasCode(error, 'INTERNAL')).toBe(true);
    expect((error as AidocError).cause).toBe(bug);
    expect(buggy).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never retries ABORTED, even when retryIf says yes', async () => {
    const aborted = new AidocError('ABORTED', 'caller left', { retryable: true });
    const retryIf = vi.fn(() => true);
    const fn = failing([aborted], 'unreachable');
    await expect(withRetry(fn, { retryIf })).rejects.toBe(aborted);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(retryIf).not.toHaveBeenCalled();
  });

  it('lets retryIf decide for everything else', async () => {
    const fn = failing([new AidocError('NOT_FOUND', 'replica lag')], 'found');
    const retryIf = vi.fn((error: AidocError) => error.code === 'NOT_FOUND');
    const result = withRetry(fn, { retryIf, random: () => 0 });
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('found');
    expect(retryIf).toHaveBeenCalledWith(expect.objectContaining({ code: 'NOT_FOUND' }), 1);

    const refused = unavailable();
    await expect(withRetry(failing([refused], 'x'), { retryIf: () => false })).rejects.toBe(refused);
  });

  it('backs off exponentially with full jitter, capped at maxDelayMs', async () => {
    const delays: number[] = [];
    const onRetry = (info: RetryInfo): void => {
      delays.push(info.delayMs);
    };
    const errors = Array.from({ length: 5 }, () => unavailable());
    const full = withRetry(failing(errors, 'ok'), { attempts: 6, baseDelayMs: 100, maxDelayMs: 500, random: () => 1, onRetry });
    await vi.runAllTimersAsync();
    await expect(full).resolves.toBe('ok');
    expect(delays).toEqual([100, 200, 400, 500, 500]);

    delays.length = 0;
    const half = withRetry(failing(errors, 'ok'), { attempts: 6, baseDelayMs: 100, maxDelayMs: 500, random: () => 0.5, onRetry });
    await vi.runAllTimersAsync();
    await half;
    expect(delays).toEqual([50, 100, 200, 250, 250]);
  });

  it('waits the backoff before the next attempt, not less', async () => {
    const fn = failing([unavailable()], 'ok');
    const result = withRetry(fn, { baseDelayMs: 300, random: () => 1 });
    await vi.advanceTimersByTimeAsync(299);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await expect(result).resolves.toBe('ok');
  });

  it('honours Retry-After over a shorter jitter, beyond maxDelayMs', async () => {
    const limited = new AidocError('RATE_LIMITED', '429', { retryAfterMs: 5000 });
    const fn = failing([limited], 'ok');
    const onRetry = vi.fn();
    const result = withRetry(fn, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 1, onRetry });
    await vi.advanceTimersByTimeAsync(4999);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await expect(result).resolves.toBe('ok');
    expect(onRetry).toHaveBeenCalledWith({ error: limited, attempt: 1, delayMs: 5000 });
  });

  it('keeps a jitter longer than Retry-After', async () => {
    const onRetry = vi.fn();
    const result = withRetry(failing([new AidocError('RATE_LIMITED', '429', { retryAfterMs: 10 })], 'ok'), {
      baseDelayMs: 100,
      random: () => 1,
      onRetry,
    });
    await vi.runAllTimersAsync();
    await result;
    expect(onRetry).toHaveBeenCalledWith(expect.objectContaining({ delayMs: 100 }));
  });

  it('fails at once when Retry-After exceeds maxRetryAfterMs', async () => {
    const limited = new AidocError('RATE_LIMITED', '429', { retryAfterMs: 120_000 });
    const fn = failing([limited], 'ok');
    await expect(withRetry(fn, { maxRetryAfterMs: 60_000 })).rejects.toBe(limited);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects promptly with ABORTED when aborted during backoff, leaving nothing behind', async () => {
    const controller = new AbortController();
    const fn = failing([unavailable(), unavailable()], 'ok');
    const result = withRetry(fn, { signal: controller.signal, baseDelayMs: 10_000, random: () => 1 });
    const outcome = expect(result).rejects.toMatchObject({ code: 'ABORTED' });
    await vi.advanceTimersByTimeAsync(1);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    await outcome;
    expect(fn).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('treats a failure after the caller aborted as ABORTED, not as retryable', async () => {
    const controller = new AbortController();
    const fn = vi.fn((_attempt: number, signal: AbortSignal | undefined) => {
      return new Promise<never>((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(unavailable('connection reset')), { once: true });
      });
    });
    const result = withRetry(fn, { signal: controller.signal });
    controller.abort();
    await expect(result).rejects.toMatchObject({ code: 'ABORTED' });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn.mock.calls[0]![1]).toBe(controller.signal);
  });

  it('does not call fn when the signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    const fn = vi.fn(() => Promise.resolve(1));
    await expect(withRetry(fn, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(fn).not.toHaveBeenCalled();
  });

  it('records attempts and time slept into the current span', async () => {
    const trace = startTrace('request');
    const result = runInSpan(trace.root, () =>
      withRetry(failing([unavailable(), unavailable()], 'ok'), { baseDelayMs: 100, random: () => 1 }),
    );
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    expect(trace.root.attempts).toBe(3);
    expect(trace.root.backoffMs).toBe(300);

    const explicit = trace.startSpan('call', 'call', trace.root);
    await withRetry(failing([], 'ok'), { span: explicit });
    expect(explicit.attempts).toBe(1);
    expect(explicit.backoffMs).toBe(0);
  });

  it('validates options p-queue style', async () => {
    const fn = vi.fn(() => Promise.resolve(1));
    await expect(withRetry(fn, { attempts: 0 })).rejects.toThrow(
      new TypeError('Expected `attempts` to be a positive integer, got `0` (number)'),
    );
    await expect(withRetry(fn, { attempts: 1.5 })).rejects.toThrow(TypeError);
    await expect(withRetry(fn, { baseDelayMs: -1 })).rejects.toThrow(/`baseDelayMs`/);
    await expect(withRetry(fn, { maxDelayMs: Infinity })).rejects.toThrow(/`maxDelayMs`/);
    await expect(withRetry(fn, { maxRetryAfterMs: Number.NaN })).rejects.toThrow(/`maxRetryAfterMs`/);
    await expect(withRetry(fn, { random: 0.5 as unknown as () => number })).rejects.toThrow(
      new TypeError('Expected `random` to be a function, got `0.5` (number)'),
    );
    expect(fn).not.toHaveBeenCalled();
  });
});
