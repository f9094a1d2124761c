import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { MicroBatcher } from '../src/executor/micro-batcher.ts';
import { gather } from '../src/executor/gather.ts';

function recordingBatcher(options: { maxBatchSize?: number; delayMs?: number; key?: boolean } = {}) {
  const batches: string[][] = [];
  const signals: AbortSignal[] = [];
  const batcher = new MicroBatcher<string, string>({
    maxBatchSize: options.maxBatchSize ?? 100,
    ...(options.key === false ? {} : { key: (item: string) => item }),
    execute: (items, signal) => {
      batches.push([...items]);
      signals.push(signal);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(items.map((item) => item.toUpperCase())), options.delayMs ?? 5);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new AidocError('ABORTED', 'batch aborted'));
        });
      });
    },
  });
  return { batcher, batches, signals };
}

describe('MicroBatcher', () => {
  it('sends the loads of one tick as one batch, results in order', async () => {
    const { batcher, batches } = recordingBatcher();
    const results = await Promise.all(['a', 'b', 'c'].map((item) => batcher.load(item)));
    expect(results).toEqual(['A', 'B', 'C']);
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('batches the concurrent calls of a gather (one turn of tool calls)', async () => {
    const { batcher, batches } = recordingBatcher();
    const results = await gather([() => batcher.load('x'), () => batcher.load('y')]);
    expect(results).toEqual(['X', 'Y']);
    expect(batches).toHaveLength(1);
  });

  it('splits at maxBatchSize', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatchSize: 2 });
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((item) => batcher.load(item)));
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('coalesces identical keys queued or in flight, and forgets them once settled', async () => {
    const { batcher, batches } = recordingBatcher({ delayMs: 20 });
    const first = batcher.load('same');
    const second = batcher.load('same');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const whileInFlight = batcher.load('same');
    expect(await Promise.all([first, second, whileInFlight])).toEqual(['SAME', 'SAME', 'SAME']);
    expect(batches).toEqual([['same']]);
    expect(batcher.inFlight).toBe(0);
    await batcher.load('same');
    expect(batches).toHaveLength(2);
  });

  it('rejects an aborting caller at once but keeps the batch for the others', async () => {
    const { batcher, signals } = recordingBatcher({ delayMs: 20 });
    const controller = new AbortController();
    const leaving = batcher.load('a', { signal: controller.signal });
    const staying = batcher.load('b', { signal: new AbortController().signal });
    await Promise.resolve();
    controller.abort();
    await expect(leaving).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(staying).resolves.toBe('B');
    expect(signals[0]!.aborted).toBe(false);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('aborts the batch when every caller has left, and a later load starts afresh', async () => {
    const { batcher, batches, signals } = recordingBatcher({ delayMs: 50 });
    const first = new AbortController();
    const second = new AbortController();
    const loads = [batcher.load('k', { signal: first.signal }), batcher.load('k', { signal: second.signal })];
    await new Promise((resolve) => setTimeout(resolve, 5));
    first.abort();
    second.abort();
    await Promise.allSettled(loads);
    expect(signals[0]!.aborted).toBe(true);
    await expect(batcher.load('k')).resolves.toBe('K');
    expect(batches).toHaveLength(2);
  });

  it('fails every caller of a failed batch, and rejects a result count mismatch', async () => {
    const failing = new MicroBatcher<string, string>({ maxBatchSize: 10, execute: () => Promise.reject(new AidocError('UPSTREAM_UNAVAILABLE', '503')) });
    await expect(Promise.all([failing.load('a'), failing.load('b')])).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    const short = new MicroBatcher<string, string>({ maxBatchSize: 10, execute: () => Promise.resolve(['only one']) });
    await expect(Promise.all([short.load('a'), short.load('b')])).rejects.toMatchObject({ code: 'INVALID_OUTPUT' });
  });

  it('rejects an already-aborted signal without queueing', async () => {
    const { batcher, batches } = recordingBatcher();
    const controller = new AbortController();
    controller.abort();
    await expect(batcher.load('a', { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await Promise.resolve();
    expect(batches).toHaveLength(0);
  });

  it('holds the open batch for announced loads that arrive ticks apart, and lets it go when one is given up', async () => {
    const { batcher, batches } = recordingBatcher();
    const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const announced = [batcher.announce(), batcher.announce(), batcher.announce()];
    const loads = [
      (async () => {
        const result = batcher.load('a');
        announced[0]!();
        return result;
      })(),
      (async () => {
        await later(5);
        const result = batcher.load('b');
        announced[1]!();
        return result;
      })(),
    ];
    await later(10);
    expect(batches).toHaveLength(0);
    // The third load will not come (its input failed): the batch goes with what it has.
    announced[2]!();
    announced[2]!();
    expect(await Promise.all(loads)).toEqual(['A', 'B']);
    expect(batches).toEqual([['a', 'b']]);
    // Nothing announced any more: loads of one tick batch as before.
    await Promise.all([batcher.load('c'), batcher.load('d')]);
    expect(batches.at(-1)).toEqual(['c', 'd']);
  });

  it('still sends a full batch while announced loads are outstanding', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatchSize: 2 });
    const done = batcher.announce();
    await Promise.all([batcher.load('a'), batcher.load('b')]);
    expect(batches).toEqual([['a', 'b']]);
    done();
  });
});
