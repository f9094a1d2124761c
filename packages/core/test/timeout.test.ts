import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { withTimeout } from '../src/executor/timeout.ts';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

/** A promise settled from outside, like an upstream call that answers when told to. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((settle, fail) => {
    resolve = settle;
    reject = fail;
  });
  return { promise, resolve, reject };
}

function track<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const result: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then(
    (value) => Object.assign(result, { state: 'resolved', value }),
    (error: unknown) => Object.assign(result, { state: 'rejected', error }),
  );
  return result;
}

describe('withTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("returns fn's value and leaves no timer or listener behind", async () => {
    const parent = new AbortController();
    const call = deferred<string>();
    let inner: AbortSignal | undefined;
    const result = withTimeout(
      (signal) => {
        inner = signal;
        return call.promise;
      },
      1000,
      { signal: parent.signal },
    );
    expect(vi.getTimerCount()).toBe(1);
    expect(listeners(parent.signal)).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    call.resolve('ok');
    await expect(result).resolves.toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(parent.signal)).toBe(0);
    expect(listeners(inner!)).toBe(0);
    expect(inner!.aborted).toBe(false);
  });

  it('rejects with TIMEOUT on time, even if fn ignores its signal, and aborts the inner signal', async () => {
    const parent = new AbortController();
    let inner: AbortSignal | undefined;
    const result = track(
      withTimeout(
        (signal) => {
          inner = signal;
          return new Promise<never>(() => {});
        },
        250,
        { signal: parent.signal, name: 'embed' },
      ),
    );
    await vi.advanceTimersByTimeAsync(249);
    expect(result.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(result.state).toBe('rejected');
    const error = result.error as AidocError;
    expect(error).toBeInstanceOf(AidocError);
    expect(error.code).toBe('TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('embed');
    expect(error.message).toContain('250 ms');
    expect(error.details).toEqual({ name: 'embed', timeoutMs: 250 });
    expect(inner!.aborted).toBe(true);
    expect(inner!.reason).toBe(error);
    expect(parent.signal.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(parent.signal)).toBe(0);
  });

  it("reports TIMEOUT, not the error fn throws when it notices the abort", async () => {
    const result = withTimeout(
      (signal) =>
        new Promise<never>((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('socket destroyed')), { once: true });
        }),
      100,
    );
    const outcome = expect(result).rejects.toMatchObject({ code: 'TIMEOUT' });
    await vi.advanceTimersByTimeAsync(100);
    await outcome;
  });

  it('rejects with ABORTED when the parent aborts, aborting the inner signal', async () => {
    const parent = new AbortController();
    let inner: AbortSignal | undefined;
    const result = withTimeout(
      (signal) => {
        inner = signal;
        return new Promise<never>(() => {});
      },
      10_000,
      { signal: parent.signal },
    );
    parent.abort();
    await expect(result).rejects.toMatchObject({ code: 'ABORTED' });
    expect(inner!.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(parent.signal)).toBe(0);
  });

  it('does not call fn when the parent has already aborted', async () => {
    const parent = new AbortController();
    parent.abort();
    const fn = vi.fn(() => Promise.resolve(1));
    await expect(withTimeout(fn, 100, { signal: parent.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(fn).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("passes fn's own errors through unchanged, including a synchronous throw", async () => {
    const own = new AidocError('NOT_FOUND', 'no such patient');
    await expect(withTimeout(() => Promise.reject(own), 100)).rejects.toBe(own);
    const thrown = new Error('sync');
    await expect(
      withTimeout(() => {
        throw thrown;
      }, 100),
    ).rejects.toBe(thrown);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sets no timer for Infinity, yet still follows the parent', async () => {
    const parent = new AbortController();
    const result = withTimeout(() => new Promise<never>(() => {}), Infinity, { signal: parent.signal });
    expect(vi.getTimerCount()).toBe(0);
    parent.abort();
    await expect(result).rejects.toMatchObject({ code: 'ABORTED' });
    expect(listeners(parent.signal)).toBe(0);
  });

  it('drops a late outcome of fn after the timeout without an unhandled rejection', async () => {
    const call = deferred<string>();
    const outcome = expect(withTimeout(() => call.promise, 10)).rejects.toMatchObject({ code: 'TIMEOUT' });
    await vi.advanceTimersByTimeAsync(10);
    await outcome;
    call.reject(new Error('late failure'));
    await vi.advanceTimersByTimeAsync(0);
  });

  it('rejects invalid deadlines with a TypeError', async () => {
    const fn = vi.fn(() => Promise.resolve(1));
    await expect(withTimeout(fn, 0)).rejects.toThrow(
      new TypeError('Expected `timeoutMs` to be a positive number of milliseconds up to 2147483647, or Infinity, got `0` (number)'),
    );
    await expect(withTimeout(fn, Number.NaN)).rejects.toThrow(TypeError);
    await expect(withTimeout(fn, 2 ** 31)).rejects.toThrow(TypeError);
    expect(fn).not.toHaveBeenCalled();
  });
});
