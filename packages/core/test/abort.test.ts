import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { linkSignal, sleep, throwIfAborted } from '../src/executor/abort.ts';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('throwIfAborted', () => {
  it('does nothing without a signal or before it fires', () => {
    expect(() => throwIfAborted(undefined)).not.toThrow();
    expect(() => throwIfAborted(new AbortController().signal)).not.toThrow();
  });

  it('throws ABORTED, or the AidocError the signal was aborted with', () => {
    const plain = new AbortController();
    plain.abort();
    expect(() => throwIfAborted(plain.signal)).toThrow(expect.objectContaining({ code: 'ABORTED' }));
    const timedOut = new AbortController();
    const timeout = new AidocError('TIMEOUT', 'too slow');
    timedOut.abort(timeout);
    expect(() => throwIfAborted(timedOut.signal)).toThrow(timeout);
  });
});

describe('sleep', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves after the delay and leaves no timer or listener behind', async () => {
    const controller = new AbortController();
    let done = false;
    const slept = sleep(100, controller.signal).then(() => (done = true));
    expect(listeners(controller.signal)).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await slept;
    expect(done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('rejects at once with ABORTED on abort, clearing its timer and listener', async () => {
    const controller = new AbortController();
    const slept = sleep(10_000, controller.signal);
    controller.abort();
    await expect(slept).rejects.toMatchObject({ code: 'ABORTED' });
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('keeps an AidocError abort reason (a TIMEOUT stays a TIMEOUT)', async () => {
    const controller = new AbortController();
    const slept = sleep(10_000, controller.signal);
    const timeout = new AidocError('TIMEOUT', 'deadline');
    controller.abort(timeout);
    await expect(slept).rejects.toBe(timeout);
  });

  it('rejects without scheduling anything when the signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    const slept = sleep(100, controller.signal);
    expect(vi.getTimerCount()).toBe(0);
    await expect(slept).rejects.toMatchObject({ code: 'ABORTED' });
    expect(listeners(controller.signal)).toBe(0);
  });

  it('rejects delays Node cannot schedule with a TypeError', async () => {
    await expect(sleep(-1)).rejects.toThrow(new TypeError('Expected `ms` to be a non-negative number of milliseconds up to 2147483647, got `-1` (number)'));
    await expect(sleep(Number.NaN)).rejects.toThrow(TypeError);
    await expect(sleep(Infinity)).rejects.toThrow(TypeError);
    await expect(sleep(2 ** 31)).rejects.toThrow(TypeError);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('linkSignal', () => {
  it("aborts the child with the parent's reason", () => {
    const parent = new AbortController();
    const link = linkSignal(parent.signal);
    const reason = new AidocError('ABORTED', 'shutdown');
    parent.abort(reason);
    expect(link.signal.aborted).toBe(true);
    expect(link.signal.reason).toBe(reason);
    expect(listeners(parent.signal)).toBe(0);
  });

  it('lets the child abort alone without touching the parent', () => {
    const parent = new AbortController();
    const link = linkSignal(parent.signal);
    link.controller.abort(new AidocError('TIMEOUT', 'child deadline'));
    expect(link.signal.aborted).toBe(true);
    expect(parent.signal.aborted).toBe(false);
    link.dispose();
    expect(listeners(parent.signal)).toBe(0);
  });

  it('stops following the parent after dispose', () => {
    const parent = new AbortController();
    const link = linkSignal(parent.signal);
    link.dispose();
    link.dispose();
    parent.abort();
    expect(link.signal.aborted).toBe(false);
  });

  it('does not accumulate listeners on a long-lived parent', () => {
    const parent = new AbortController();
    for (let run = 0; run < 1000; run++) {
      const link = linkSignal(parent.signal);
      expect(listeners(parent.signal)).toBe(1);
      link.dispose();
    }
    expect(listeners(parent.signal)).toBe(0);
  });

  it('is born aborted under an aborted parent, and independent without one', () => {
    const parent = new AbortController();
    parent.abort('gone');
    const link = linkSignal(parent.signal);
    expect(link.signal.aborted).toBe(true);
    expect(link.signal.reason).toBe('gone');
    expect(listeners(parent.signal)).toBe(0);

    const orphan = linkSignal(undefined);
    expect(orphan.signal.aborted).toBe(false);
    orphan.controller.abort();
    expect(orphan.signal.aborted).toBe(true);
    orphan.dispose();
  });
});
