import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Filter, Payload, VectorPoint } from '@aidoc/core';
import { seededRandom, testVectorStore } from '@aidoc/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileVectorStore, type FileVectorStore } from '../src/file-vector-store.ts';
import type { FileVectorStoreOptions } from '../src/file-vector-store-options.ts';
import { expectAidocError } from './support/expect-aidoc-error.ts';

const directories: string[] = [];
const stores: FileVectorStore[] = [];

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'aidoc-file-vector-store-'));
  directories.push(directory);
  return directory;
}

async function openStore(options: Partial<FileVectorStoreOptions> = {}): Promise<FileVectorStore> {
  const store = createFileVectorStore({ directory: options.directory ?? (await temporaryDirectory()), ...options });
  stores.push(store);
  return store;
}

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

testVectorStore<FileVectorStore>({
  name: 'file vector store',
  create: async () => createFileVectorStore({ directory: await temporaryDirectory() }),
  cleanup: (store) => store.close(),
});

testVectorStore<FileVectorStore>({
  name: 'file vector store, every scan on worker threads',
  create: async () => createFileVectorStore({ directory: await temporaryDirectory(), scanThreads: 2, workerScanThreshold: 0 }),
  cleanup: (store) => store.close(),
});

function uuid(index: number): string {
  return `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

function randomVector(random: () => number, dimensions: number): number[] {
  return Array.from({ length: dimensions }, () => random() * 2 - 1);
}

function randomPoints(count: number, dimensions: number, seed: number): VectorPoint[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => ({
    id: uuid(index),
    vector: randomVector(random, dimensions),
    payload: { index, parity: index % 2 === 0 ? 'even' : 'odd', decade: Math.floor(index / 10), tags: [`t${index % 3}`, `u${index % 5}`] },
  }));
}

function cosine(left: ArrayLike<number>, right: ArrayLike<number>): number {
  let dot = 0;
  let leftSquares = 0;
  let rightSquares = 0;
  for (let index = 0; index < left.length; index++) {
    dot += left[index]! * right[index]!;
    leftSquares += left[index]! ** 2;
    rightSquares += right[index]! ** 2;
  }
  return dot / Math.sqrt(leftSquares * rightSquares);
}

/** The exact answer: every point scored, sorted, cut. */
function bruteForce(points: readonly VectorPoint[], vector: readonly number[], limit: number, keep: (payload: Payload) => boolean = () => true): { id: string; score: number }[] {
  return points
    .filter((point) => keep(point.payload))
    .map((point) => ({ id: point.id, score: cosine(point.vector, vector) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
}

describe('createFileVectorStore: search', () => {
  for (const [label, options] of [
    ['on the calling thread', { scanThreads: 0 }],
    ['split across worker threads', { scanThreads: 2, workerScanThreshold: 0 }],
    ['split across more threads than rows', { scanThreads: 4, workerScanThreshold: 0 }],
  ] as const) {
    it(`matches brute force on random data, ${label}`, async () => {
      const dimensions = 37; // not a multiple of 4: the unrolled loop's tail counts
      const points = randomPoints(label.includes('more threads') ? 3 : 700, dimensions, 11);
      const store = await openStore(options);
      await store.ensureCollection('random', { dimensions, distance: 'cosine' });
      await store.upsert('random', points);
      const random = seededRandom(99);
      for (let round = 0; round < 25; round++) {
        const vector = randomVector(random, dimensions);
        const limit = 1 + (round % 12);
        const results = await store.query('random', { vector, limit });
        const expected = bruteForce(points, vector, limit);
        expect(results.map((result) => result.id)).toEqual(expected.map((result) => result.id));
        results.forEach((result, index) => expect(result.score).toBeCloseTo(expected[index]!.score, 5));
        results.forEach((result) => expect(result.payload).toEqual(points[Number.parseInt(result.id.slice(-12), 16)]!.payload));
      }
    });
  }

  it('matches brute force with filters and in batches', async () => {
    const dimensions = 16;
    const points = randomPoints(400, dimensions, 5);
    const store = await openStore({ scanThreads: 2, workerScanThreshold: 0 });
    await store.ensureCollection('filtered', { dimensions, distance: 'cosine' });
    await store.upsert('filtered', points);
    const random = seededRandom(3);
    const filters: { filter: Filter; keep: (payload: Payload) => boolean }[] = [
      { filter: { must: [{ key: 'parity', match: { value: 'even' } }] }, keep: (payload) => payload.parity === 'even' },
      { filter: { must: [{ key: 'tags', match: { any: ['t1', 'u4'] } }] }, keep: (payload) => (payload.tags as string[]).some((tag) => tag === 't1' || tag === 'u4') },
      { filter: { must: [{ key: 'index', range: { gte: 100, lt: 130 } }] }, keep: (payload) => (payload.index as number) >= 100 && (payload.index as number) < 130 },
      { filter: { mustNot: [{ key: 'decade', range: { lte: 30 } }], should: [{ key: 'parity', match: { value: 'odd' } }] }, keep: (payload) => (payload.decade as number) > 30 && payload.parity === 'odd' },
      { filter: { must: [{ key: 'index', match: { value: 7 } }] }, keep: (payload) => payload.index === 7 },
      { filter: { must: [{ key: 'index', match: { value: -1 } }] }, keep: () => false },
    ];
    const queries = filters.map(({ filter }) => ({ vector: randomVector(random, dimensions), limit: 8, filter }));
    const batched = await store.queryBatch('filtered', queries);
    for (const [index, { keep }] of filters.entries()) {
      const expected = bruteForce(points, queries[index]!.vector, 8, keep);
      expect(batched[index]!.map((result) => result.id)).toEqual(expected.map((result) => result.id));
      const single = await store.query('filtered', queries[index]!);
      expect(single.map((result) => result.id)).toEqual(expected.map((result) => result.id));
    }
  });

  it('normalises vectors: cosine ignores length, and a zero vector scores 0', async () => {
    const store = await openStore();
    await store.ensureCollection('norm', { dimensions: 3, distance: 'cosine' });
    await store.upsert('norm', [
      { id: uuid(1), vector: [10, 0, 0], payload: {} },
      { id: uuid(2), vector: new Float32Array([0, 0.001, 0]), payload: {} },
      { id: uuid(3), vector: [0, 0, 0], payload: {} },
    ]);
    const results = await store.query('norm', { vector: [0.5, 0.5, 0], limit: 3 });
    expect(results.map((result) => result.id)).toEqual([uuid(1), uuid(2), uuid(3)]);
    expect(results[0]!.score).toBeCloseTo(Math.SQRT1_2, 6);
    expect(results[1]!.score).toBeCloseTo(Math.SQRT1_2, 6);
    expect(results[2]!.score).toBe(0);
  });

  it('returns nothing from an empty collection', async () => {
    const store = await openStore();
    await store.ensureCollection('empty', { dimensions: 2, distance: 'cosine' });
    expect(await store.query('empty', { vector: [1, 0], limit: 3 })).toEqual([]);
    expect(await store.queryBatch('empty', [{ vector: [1, 0], limit: 3 }])).toEqual([[]]);
  });
});

describe('createFileVectorStore: points', () => {
  it('upserts idempotently: same ids replace, duplicates within a batch keep the last', async () => {
    const store = await openStore();
    await store.ensureCollection('docs', { dimensions: 4, distance: 'cosine' });
    const points = randomPoints(50, 4, 1);
    await store.upsert('docs', points);
    await store.upsert('docs', points);
    expect((await store.info('docs')).pointCount).toBe(50);
    await store.upsert('docs', [
      { id: uuid(3), vector: [1, 0, 0, 0], payload: { version: 1 } },
      { id: uuid(3).toUpperCase(), vector: [0, 1, 0, 0], payload: { version: 2 } },
    ]);
    expect((await store.info('docs')).pointCount).toBe(50);
    const [top] = await store.query('docs', { vector: [0, 1, 0, 0], limit: 1 });
    expect(top).toEqual({ id: uuid(3), score: expect.closeTo(1, 6) as number, payload: { version: 2 } });
  });

  it('hands out frozen copies of payloads', async () => {
    const store = await openStore();
    await store.ensureCollection('docs', { dimensions: 2, distance: 'cosine' });
    const tags = ['a'];
    await store.upsert('docs', [{ id: uuid(1), vector: [1, 0], payload: { tags } }]);
    tags.push('b');
    const [hit] = await store.query('docs', { vector: [1, 0], limit: 1 });
    expect(hit!.payload).toEqual({ tags: ['a'] });
    expect(Object.isFrozen(hit!.payload)).toBe(true);
    expect(Object.isFrozen(hit!.payload.tags)).toBe(true);
  });

  it('deletes by ids (swap-remove keeps every other point findable) and by filter', async () => {
    const dimensions = 8;
    const points = randomPoints(120, dimensions, 2);
    const store = await openStore();
    await store.ensureCollection('docs', { dimensions, distance: 'cosine' });
    await store.upsert('docs', points);
    const deleted = new Set([0, 5, 17, 119, 60].map(uuid));
    await store.delete('docs', { ids: [...deleted, uuid(999)] });
    await store.delete('docs', { filter: { must: [{ key: 'decade', match: { value: 3 } }] } });
    const left = points.filter((point) => !deleted.has(point.id) && point.payload.decade !== 3);
    expect((await store.info('docs')).pointCount).toBe(left.length);
    for (const point of left) {
      const [hit] = await store.query('docs', { vector: point.vector, limit: 1 });
      expect(hit).toEqual({ id: point.id, score: expect.closeTo(1, 5) as number, payload: point.payload });
    }
    const random = seededRandom(8);
    for (let round = 0; round < 10; round++) {
      const vector = randomVector(random, dimensions);
      expect((await store.query('docs', { vector, limit: 6 })).map((hit) => hit.id)).toEqual(bruteForce(left, vector, 6).map((hit) => hit.id));
    }
    await store.delete('docs', { filter: {} });
    expect((await store.info('docs')).pointCount).toBe(0);
  });

  it('scrolls in a stable ascending id order, with a filter, across deletes', async () => {
    const store = await openStore();
    await store.ensureCollection('docs', { dimensions: 3, distance: 'cosine' });
    const points = randomPoints(57, 3, 4).reverse();
    await store.upsert('docs', points);
    const seen: string[] = [];
    let offset: string | undefined;
    let pages = 0;
    do {
      const page = await store.scroll('docs', { limit: 10, offset });
      seen.push(...page.points.map((point) => point.id));
      expect(page.points.every((point) => !('vector' in point))).toBe(true);
      offset = page.nextOffset;
      // Deleting behind the cursor does not move it.
      if (pages++ === 1) await store.delete('docs', { ids: [seen[0]!, seen[1]!] });
    } while (offset !== undefined);
    expect(seen).toEqual(points.map((point) => point.id).sort());
    const even = await store.scroll('docs', { limit: 100, filter: { must: [{ key: 'parity', match: { value: 'even' } }] } });
    expect(even.nextOffset).toBeUndefined();
    expect(even.points.map((point) => point.id)).toEqual(points.filter((point) => point.payload.parity === 'even' && (point.payload.index as number) > 1).map((point) => point.id).sort());
  });
});

describe('createFileVectorStore: collections and input', () => {
  it('ensureCollection is idempotent, also when called concurrently; other dimensions are INVALID_INPUT', async () => {
    const store = await openStore();
    await Promise.all(Array.from({ length: 5 }, () => store.ensureCollection('docs', { dimensions: 6, distance: 'cosine' })));
    expect(await store.info('docs')).toEqual({ name: 'docs', exists: true, pointCount: 0, dimensions: 6 });
    await expectAidocError(store.ensureCollection('docs', { dimensions: 7, distance: 'cosine' }), 'INVALID_INPUT', /6 dimensions/);
  });

  it('rejects a missing collection with NOT_FOUND (info says exists: false)', async () => {
    const store = await openStore();
    expect(await store.info('nope')).toEqual({ name: 'nope', exists: false, pointCount: 0, dimensions: undefined });
    await expectAidocError(store.query('nope', { vector: [1], limit: 1 }), 'NOT_FOUND', /nope/);
    await expectAidocError(store.upsert('nope', []), 'NOT_FOUND');
    await expectAidocError(store.scroll('nope', { limit: 1 }), 'NOT_FOUND');
    await expectAidocError(store.delete('nope', { ids: [] }), 'NOT_FOUND');
  });

  it('rejects bad input with INVALID_INPUT naming the field, and changes nothing', async () => {
    const store = await openStore();
    await store.ensureCollection('docs', { dimensions: 2, distance: 'cosine' });
    await store.upsert('docs', [{ id: uuid(1), vector: [1, 0], payload: {} }]);
    const cases: [Promise<unknown>, RegExp][] = [
      [store.upsert('docs', [{ id: uuid(2), vector: [1, 0], payload: {} }, { id: 'not-a-uuid', vector: [1, 0], payload: {} }]), /points\[1\]\.id/],
      [store.upsert('docs', [{ id: uuid(2), vector: [1, Number.NaN], payload: {} }]), /points\[0\]\.vector\[1\]/],
      [store.upsert('docs', [{ id: uuid(2), vector: [1, 0], payload: { when: new Date() as unknown as string } }]), /points\[0\]\.payload\.when/],
      [store.upsert('docs', [{ id: uuid(2), vector: [1, 0], payload: { mixed: [1, 'a'] as unknown as number[] } }]), /payload\.mixed/],
      [store.query('docs', { vector: [1, 0], limit: 0 }), /query\.limit/],
      [store.query('docs', { vector: [1, 0], limit: 1, filter: { must: [{ key: 'a', range: {} }] } }), /must\[0\]\.range/],
      [store.query('docs', { vector: [1, 0], limit: 1, filter: { must: [{ key: 'a', match: { value: [1] as unknown as number } }] } }), /must\[0\]\.match\.value/],
      [store.queryBatch('docs', [{ vector: [1, 0], limit: 1 }, { vector: [1], limit: 1 }]), /queries\[1\]\.vector/],
      [store.scroll('docs', { limit: 1, offset: 'x' }), /offset/],
      [store.delete('docs', { ids: ['x'] }), /ids\[0\]/],
      [store.ensureCollection('../escape', { dimensions: 2, distance: 'cosine' }), /collection name/],
      [store.ensureCollection('other', { dimensions: 0, distance: 'cosine' }), /dimensions/],
      [store.ensureCollection('other', { dimensions: 2, distance: 'dot' as 'cosine' }), /distance/],
    ];
    for (const [promise, message] of cases) await expectAidocError(promise, 'INVALID_INPUT', message);
    expect((await store.info('docs')).pointCount).toBe(1);
    expect(() => createFileVectorStore({ directory: '' })).toThrow(TypeError);
    expect(() => createFileVectorStore({ directory: '/tmp', scanThreads: -1 })).toThrow('Expected `scanThreads` to be an integer >= 0, got `-1` (number)');
  });
});

describe('createFileVectorStore: abort and lifecycle', () => {
  it('rejects ABORTED at once when aborted mid-scan, and the store stays usable', async () => {
    const dimensions = 256;
    const store = await openStore({ scanThreads: 2, workerScanThreshold: 0 });
    await store.ensureCollection('big', { dimensions, distance: 'cosine' });
    const random = seededRandom(4);
    for (let batch = 0; batch < 4; batch++) {
      await store.upsert('big', Array.from({ length: 2000 }, (_, index) => ({ id: uuid(batch * 2000 + index), vector: randomVector(random, dimensions), payload: {} })));
    }
    const controller = new AbortController();
    const queries = Array.from({ length: 40 }, () => ({ vector: randomVector(random, dimensions), limit: 5 }));
    const pending = store.queryBatch('big', queries, { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    const started = performance.now();
    await expectAidocError(pending, 'ABORTED');
    expect(performance.now() - started).toBeLessThan(200);
    expect(await store.query('big', { vector: queries[0]!.vector, limit: 1 })).toHaveLength(1);
  });

  it('does not apply a mutation aborted while it waited for the collection', async () => {
    const store = await openStore();
    await store.ensureCollection('docs', { dimensions: 2, distance: 'cosine' });
    const controller = new AbortController();
    const first = store.upsert('docs', [{ id: uuid(1), vector: [1, 0], payload: {} }]);
    const second = expectAidocError(store.upsert('docs', [{ id: uuid(2), vector: [1, 0], payload: {} }], { signal: controller.signal }), 'ABORTED');
    controller.abort();
    await first;
    await second;
    expect((await store.info('docs')).pointCount).toBe(1);
  });

  it('coalesces concurrent upserts into few writes, each caller resolving once its change is durable', async () => {
    const directory = await temporaryDirectory();
    const store = await openStore({ directory });
    await store.ensureCollection('docs', { dimensions: 2, distance: 'cosine' });
    const reader = await openStore({ directory, readOnly: true });
    await Promise.all(
      Array.from({ length: 30 }, async (_, index) => {
        await store.upsert('docs', [{ id: uuid(index), vector: [1, index], payload: { index } }]);
        // Durable means on disk: a reader (which loads from the file) already sees this point.
        const page = await reader.scroll('docs', { limit: 1, offset: uuid(index) });
        expect(page.points[0]?.id).toBe(uuid(index));
      }),
    );
    expect((await reader.info('docs')).pointCount).toBe(30);
  });

  it('close() finishes pending writes, then rejects calls; asyncDispose closes', async () => {
    const directory = await temporaryDirectory();
    const store = createFileVectorStore({ directory });
    await store.ensureCollection('docs', { dimensions: 2, distance: 'cosine' });
    const upserted = store.upsert('docs', [{ id: uuid(1), vector: [1, 0], payload: {} }]);
    await store.close();
    await upserted;
    await expectAidocError(store.info('docs'), 'INVALID_INPUT', /closed/);
    await store.close();
    {
      await using reopened = createFileVectorStore({ directory });
      expect((await reopened.info('docs')).pointCount).toBe(1);
    }
    // The disposed writer released its lock.
    const again = await openStore({ directory });
    await again.open();
  });
});
