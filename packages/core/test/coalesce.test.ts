import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { Coalescer } from '../src/executor/coalesce.ts';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

/** An upstream call that settles when the test says, recording the signal it was given. */
function controllable<V>() {
  const calls: { signal: AbortSignal; resolve: (value: V) => void; reject: (error: Error) => void }[] = [];
  const fn = vi.fn(
    (signal: AbortSignal) =>
      new Promise<V>((resolve, reject) => {
        calls.push({ signal, resolve, reject });
      }),
  );
  return { fn, calls };
}

describe('Coalescer', () => {
  it('shares one in-flight call between identical concurrent calls', async () => {
    const coalescer = new Coalescer<string>();
    const { fn, calls } = controllable<string>();
    const first = coalescer.run('patient:1', fn);
    const second = coalescer.run('patient:1', fn);
    const third = coalescer.run('patient:1', fn, { signal: new AbortController().signal });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(coalescer.inFlight).toBe(1);
    calls[0]!.resolve('record');
    await expect(Promise.all([first, second, third])).resolves.toEqual(['record', 'record', 'record']);
    expect(coalescer.inFlight).toBe(0);
  });

  it('keeps different keys apart', async () => {
    const coalescer = new Coalescer<string>();
    const { fn, calls } = controllable<string>();
    const one = coalescer.run('patient:1', fn);
    const two = coalescer.run('patient:2', fn);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(coalescer.inFlight).toBe(2);
    calls[0]!.resolve('one');
    calls[1]!.resolve('two');
    await expect(Promise.all([one, two])).resolves.toEqual(['one', 'two']);
  });

  it('does not cache a failure: every waiter gets it, the next call starts afresh', async () => {
    const coalescer = new Coalescer<string>();
    const { fn, calls } = controllable<string>();
    const failure = new AidocError('UPSTREAM_UNAVAILABLE', '503');
    const first = coalescer.run('k', fn);
    const second = coalescer.run('k', fn);
    calls[0]!.reject(failure);
    await expect(first).rejects.toBe(failure);
    await expect(second).rejects.toBe(failure);
    expect(coalescer.inFlight).toBe(0);
    const retry = coalescer.run('k', fn);
    expect(fn).toHaveBeenCalledTimes(2);
    calls[1]!.resolve('recovered');
    await expect(retry).resolves.toBe('recovered');
  });

  it('rejects an aborting caller at once while the others still get the value', async () => {
    const coalescer = new Coalescer<string>();
    const { fn, calls } = controllable<string>();
    const leaving = new AbortController();
    const staying = new AbortController();
    const left = coalescer.run('k', fn, { signal: leaving.signal });
    const stayed = coalescer.run('k', fn, { signal: staying.signal });
    leaving.abort();
    await expect(left).rejects.toMatchObject({ code: 'ABORTED' });
    expect(calls[0]!.signal.aborted).toBe(false);
    expect(listeners(leaving.signal)).toBe(0);
    calls[0]!.resolve('value');
    await expect(stayed).resolves.toBe('value');
    expect(listeners(staying.signal)).toBe(0);
  });

  it('aborts the shared call only when every caller has aborted, and then releases the key', async () => {
    const coalescer = new Coalescer<string>();
    const { fn, calls } = controllable<string>();
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const outcomes = controllers.map((controller) => coalescer.run('k', fn, { signal: controller.signal }));
    controllers[0]!.abort();
    controllers[1]!.abort();
    expect(calls[0]!.signal.aborted).toBe(false);
    const reason = new AidocError('TIMEOUT', 'deadline');
    controllers[2]!.abort(reason);
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(calls[0]!.signal.reason).toBe(reason);
    expect(coalescer.inFlight).toBe(0);
    const results = await Promise.allSettled(outcomes);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBe(reason);

    // The abandoned call may still be winding down; a newcomer must not join it.
    const fresh = coalescer.run('k', fn);
    expect(fn).toHaveBeenCalledTimes(2);
    calls[0]!.reject(new Error('aborted late'));
    calls[1]!.resolve('fresh');
    await expect(fresh).resolves.toBe('fresh');
    expect(coalescer.inFlight).toBe(0);
  });

  it('never aborts a shared call that a caller without a signal is waiting for', async () => {
    const coalescer = new Coalescer<string>();
    const { fn, calls } = controllable<string>();
    const patient = coalescer.run('k', fn);
    const controller = new AbortController();
    const impatient = coalescer.run('k', fn, { signal: controller.signal });
    controller.abort();
    await expect(impatient).rejects.toMatchObject({ code: 'ABORTED' });
    expect(calls[0]!.signal.aborted).toBe(false);
    calls[0]!.resolve('value');
    await expect(patient).resolves.toBe('value');
  });

  it('refuses an already-aborted caller without starting a call', async () => {
    const coalescer = new Coalescer<string>();
    const fn = vi.fn(() => Promise.resolve('value'));
    const controller = new AbortController();
    controller.abort();
    await expect(coalescer.run('k', fn, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(fn).not.toHaveBeenCalled();
    expect(coalescer.inFlight).toBe(0);
  });

  it('turns a synchronous throw into a rejection and releases the key', async () => {
    const coalescer = new Coalescer<string>();
    const thrown = new Error('sync');
    await expect(
      coalescer.run('k', () => {
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    expect(coalescer.inFlight).toBe(0);
  });
});
