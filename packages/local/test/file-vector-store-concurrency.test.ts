import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '@aidoc/core/testing';
import { describe, expect, it } from 'vitest';
import { ReadWriteGate } from '../src/file-vector-store-read-write-gate.ts';
import { scanVectors } from '../src/file-vector-store-scan.ts';
import { WriteCoalescer } from '../src/file-vector-store-write-coalescer.ts';

describe('ReadWriteGate', () => {
  it('never runs an exclusive holder beside anyone (100 random-delay tasks)', async () => {
    const gate = new ReadWriteGate();
    const random = seededRandom(42);
    let readers = 0;
    let writers = 0;
    let maxReaders = 0;
    const tasks = Array.from({ length: 100 }, (_, index) => {
      const delay = Math.floor(random() * 5);
      if (index % 4 === 0) {
        return gate.exclusive(async () => {
          writers++;
          expect(writers).toBe(1);
          expect(readers).toBe(0);
          await sleep(delay);
          writers--;
        });
      }
      return gate.shared(async () => {
        readers++;
        maxReaders = Math.max(maxReaders, readers);
        expect(writers).toBe(0);
        await sleep(delay);
        readers--;
      });
    });
    await Promise.all(tasks);
    expect(maxReaders).toBeGreaterThan(1);
  });

  it('serves in arrival order: a waiting writer holds back later readers', async () => {
    const gate = new ReadWriteGate();
    const order: string[] = [];
    const first = gate.shared(async () => {
      await sleep(10);
      order.push('reader 1');
    });
    const writer = gate.exclusive(() => order.push('writer'));
    const second = gate.shared(() => order.push('reader 2'));
    await Promise.all([first, writer, second]);
    expect(order).toEqual(['reader 1', 'writer', 'reader 2']);
  });

  it('releases the gate when the holder throws', async () => {
    const gate = new ReadWriteGate();
    await expect(gate.exclusive(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.exclusive(() => 'ok')).resolves.toBe('ok');
  });
});

describe('WriteCoalescer', () => {
  it('batches requests made during a write into one following write; each resolves after a write that started after it', async () => {
    const starts: number[] = [];
    let clock = 0;
    const coalescer = new WriteCoalescer(async () => {
      starts.push(++clock);
      await sleep(20);
    });
    /** Resolves with [writes started when requested, writes started when resolved]. */
    const request = (): Promise<[number, number]> => {
      const at = clock;
      return coalescer.request().then(() => [at, clock]);
    };
    const first = request();
    await sleep(5); // the first write is running now
    const later = [request(), request(), request()];
    const outcomes = await Promise.all([first, ...later]);
    expect(starts).toEqual([1, 2]);
    expect(outcomes).toEqual([
      [0, 1],
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    await coalescer.idle();
  });

  it('reports a failed write to its callers and still runs the next one', async () => {
    let calls = 0;
    const coalescer = new WriteCoalescer(async () => {
      calls++;
      await sleep(5);
      if (calls === 1) throw new Error('disk full');
    });
    const failed = coalescer.request();
    await sleep(1);
    const next = coalescer.request();
    await expect(failed).rejects.toThrow('disk full');
    await expect(next).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});

describe('scanVectors', () => {
  it('keeps the best rows with a heap; ties go to the lower row; masks and limits apply', () => {
    const dimensions = 2;
    const rows = [
      [1, 0],
      [0, 1],
      [1, 0],
      [0.6, 0.8],
      [-1, 0],
    ];
    const buffer = new ArrayBuffer(rows.length * dimensions * 4);
    new Float32Array(buffer).set(rows.flat());
    const vector = Float64Array.from([1, 0]);
    const [all, masked, none] = scanVectors({
      buffer,
      dimensions,
      start: 0,
      end: rows.length,
      queries: [
        { vector, limit: 10, mask: undefined },
        { vector, limit: 2, mask: Uint8Array.from([0, 1, 1, 1, 1]) },
        { vector, limit: 0, mask: undefined },
      ],
    });
    expect([...all!.rows]).toEqual([0, 2, 3, 1, 4]);
    expect([...all!.scores].map((score) => Number(score.toFixed(4)))).toEqual([1, 1, 0.6, 0, -1]);
    expect([...masked!.rows]).toEqual([2, 3]);
    expect(none!.rows).toHaveLength(0);
  });
});
