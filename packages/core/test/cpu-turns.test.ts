import { performance } from 'node:perf_hooks';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { cpuTurnQueueLength, takeCpuTurn } from '../src/executor/cpu-turns.ts';
import { rejectionOf } from '../src/testing/rejection-of.ts';
import { runTraced } from '../src/tracing/trace-context.ts';

/** Keeps the CPU busy for `ms`, as a step that parses or validates would. */
function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

/** A probe that records how late each macrotask-level timer check ran, while `work` runs. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let longest = 0;
  let last = performance.now();
  let running = true;
  const probe = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(probe);
  };
  setImmediate(probe);
  await work();
  // Let the probe see the last stretch too (work that never yielded leaves it a single gap).
  await new Promise<void>((resolve) => setImmediate(resolve));
  running = false;
  return longest;
}

/**
 * Asks for a turn as a second caller, after a first caller has spent this iteration's slice
 * (two immediates of the same iteration): the ask has to queue.
 */
function askAfterSpentSlice(signal?: AbortSignal): Promise<{ turn: Promise<void> }> {
  return new Promise((resolve) => {
    setImmediate(() => void takeCpuTurn().then(() => burn(6)));
    setImmediate(() => resolve({ turn: takeCpuTurn(signal) }));
  });
}

describe('takeCpuTurn', () => {
  // Each test starts on a fresh macrotask: code that runs on after a granted turn, in the same
  // microtask drain, is that turn's continuation (the test runner's, here).
  beforeEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

  it('grants at once on an idle loop, without waiting for another iteration', async () => {
    let immediateRan = false;
    setImmediate(() => (immediateRan = true));
    await takeCpuTurn();
    expect(immediateRan).toBe(false);
  });

  it('runs callers of one synchronous burst one at a time, not all at once', async () => {
    let running = 0;
    let most = 0;
    const steps = Array.from({ length: 5 }, () =>
      takeCpuTurn().then(async () => {
        most = Math.max(most, ++running);
        await Promise.resolve();
        running--;
      }),
    );
    await Promise.all(steps);
    expect(most).toBe(1);
  });

  it('spreads a burst of CPU steps over event-loop iterations, in arrival order, with the same total', async () => {
    const order: number[] = [];
    const steps = Array.from({ length: 60 }, (_, index) =>
      takeCpuTurn().then(() => {
        burn(1);
        order.push(index);
      }),
    );
    const stall = await longestStall(() => Promise.all(steps));
    expect(order).toEqual(Array.from({ length: 60 }, (_, index) => index));
    // Without turns the 60 steps of 1 ms would run as one 60 ms macrotask; a slice is about 4 ms.
    expect(stall).toBeLessThan(30);
    expect(cpuTurnQueueLength()).toBe(0);
  });

  it('counts a granted caller\'s microtask chain as its turn before granting the next one', async () => {
    const events: string[] = [];
    const first = takeCpuTurn().then(async () => {
      burn(5);
      events.push('first start');
      await Promise.resolve();
      await Promise.resolve();
      events.push('first end');
    });
    const second = takeCpuTurn().then(() => events.push('second'));
    await Promise.all([first, second]);
    expect(events).toEqual(['first start', 'first end', 'second']);
  });

  it('grants a turn the same request asks for while its turn runs at once; another request queues', async () => {
    await runTraced('request', async () => {
      const { turn } = await askAfterSpentSlice();
      await turn;
      let nestedGranted = false;
      const nested = takeCpuTurn().then(() => (nestedGranted = true));
      const other = runTraced('other request', () => takeCpuTurn());
      await Promise.resolve();
      await Promise.resolve();
      expect(nestedGranted).toBe(true);
      expect(cpuTurnQueueLength()).toBe(1); // the other request waits for this turn to end
      await nested;
      await other;
    });
  });

  it('bounds a burst that one settled promise wakes from inside a running turn', async () => {
    let wake!: () => void;
    const gate = new Promise<void>((resolve) => (wake = resolve));
    const steps = Array.from({ length: 60 }, () =>
      gate
        .then(() => takeCpuTurn())
        .then(() => burn(1)),
    );
    const stall = await longestStall(async () => {
      await takeCpuTurn();
      wake(); // the 60 callers now ask for turns from within this turn's continuation
      await Promise.all(steps);
    });
    expect(stall).toBeLessThan(30);
  });

  it('an abort while queued rejects with ABORTED, leaves the queue and its listener', async () => {
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const { turn: queued } = await askAfterSpentSlice(controller.signal);
    expect(cpuTurnQueueLength()).toBe(1);
    controller.abort();
    expect(await rejectionOf(queued)).toMatchObject({ code: 'ABORTED' });
    expect(cpuTurnQueueLength()).toBe(0);
    expect(remove).not.toHaveBeenCalled(); // `once` listeners remove themselves when they fire
    await expect(takeCpuTurn(controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('removes the abort listener when the turn is granted', async () => {
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const { turn: queued } = await askAfterSpentSlice(controller.signal);
    expect(cpuTurnQueueLength()).toBe(1);
    await queued;
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
  });

  it('keeps granting while a test fakes the clock', async () => {
    vi.useFakeTimers();
    try {
      const steps = Array.from({ length: 10 }, () => takeCpuTurn().then(() => burn(1)));
      await Promise.all(steps);
    } finally {
      vi.useRealTimers();
    }
  });
});
