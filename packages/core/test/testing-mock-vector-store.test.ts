import { describe, expect, it } from 'vitest';
import type { VectorPoint } from '../src/contracts/vector-store.ts';
import { matchesFilter } from '../src/contracts/payload-filter.ts';
import { CONFORMANCE_POINTS, createMockVectorStore } from '../src/testing/index.ts';

const id = (index: number): string => `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
const points = (count: number): VectorPoint[] =>
  Array.from({ length: count }, (_, index) => ({ id: id(index + 1), vector: [1, index + 1], payload: { order: index + 1 } }));

describe('createMockVectorStore', () => {
  it('omits queryBatch when not supported, so core falls back to query', () => {
    const store = createMockVectorStore({ supportsQueryBatch: false });
    expect(store.supportsQueryBatch).toBe(false);
    expect('queryBatch' in store).toBe(false);
    expect(typeof createMockVectorStore().queryBatch).toBe('function');
  });

  it('starts from seeded collections and shows stored points without recording a call', async () => {
    const store = createMockVectorStore({ collections: { docs: { dimensions: 4, points: CONFORMANCE_POINTS } } });
    const stored = store.storedPoints('docs')!;
    expect(stored.map((point) => point.id)).toEqual(CONFORMANCE_POINTS.map((point) => point.id));
    expect(Array.from(stored[1]!.vector)).toEqual([...(CONFORMANCE_POINTS[1]!.vector as number[])].map((value) => Math.fround(value)));
    (stored[0]!.payload as Record<string, unknown>).source = 'changed';
    expect(store.storedPoints('docs')![0]!.payload.source).toBe('a.md');
    expect(store.storedPoints('missing')).toBeUndefined();
    expect(store.calls).toEqual([]);
    await expect(store.info('docs')).resolves.toEqual({ name: 'docs', exists: true, pointCount: 5, dimensions: 4 });
  });

  it('requires UUID ids (like Qdrant) unless told otherwise, and writes a bad batch not at all', async () => {
    const store = createMockVectorStore({ collections: { docs: { dimensions: 2 } } });
    await expect(store.upsert('docs', [{ id: 'chunk-1', vector: [1, 0], payload: {} }])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.upsert('docs', [...points(2), { id: id(9), vector: [1, Number.NaN], payload: {} }])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(store.storedPoints('docs')).toEqual([]);
    const lenient = createMockVectorStore({ requireUuidIds: false, collections: { docs: { dimensions: 2 } } });
    await lenient.upsert('docs', [{ id: 'chunk-1', vector: [1, 0], payload: {} }]);
    expect(lenient.storedPoints('docs')).toHaveLength(1);
  });

  it('rejects an upsert over maxUpsertBatchSize before any request', async () => {
    const store = createMockVectorStore({ maxUpsertBatchSize: 2, collections: { docs: { dimensions: 2 } } });
    await expect(store.upsert('docs', points(3))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(store.calls[0]!.reachedUpstream).toBe(false);
  });

  it('answers NOT_FOUND for every data call on a missing collection', async () => {
    const store = createMockVectorStore();
    await expect(store.upsert('none', points(1))).rejects.toMatchObject({ code: 'NOT_FOUND', details: { collection: 'none' } });
    await expect(store.scroll('none', { limit: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.delete('none', { ids: [id(1)] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.queryBatch!('none', [])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('scrolls from an offset (inclusive, in id order), whether or not that id still exists', async () => {
    const store = createMockVectorStore({ collections: { docs: { dimensions: 2, points: points(5) } } });
    const first = await store.scroll('docs', { limit: 2 });
    expect(first).toEqual({ points: [{ id: id(1), payload: { order: 1 } }, { id: id(2), payload: { order: 2 } }], nextOffset: id(3) });
    await store.delete('docs', { ids: [id(3)] });
    const second = await store.scroll('docs', { limit: 2, offset: first.nextOffset });
    expect(second.points.map((point) => point.id)).toEqual([id(4), id(5)]);
    expect(second.nextOffset).toBeUndefined();
    await expect(store.scroll('docs', { limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('scores a zero vector 0, validates queries and filters, and returns copies of payloads', async () => {
    const store = createMockVectorStore({ collections: { docs: { dimensions: 2, points: [...points(1), { id: id(2), vector: [0, 0], payload: { tags: ['a'] } }] } } });
    const results = await store.query('docs', { vector: [1, 0], limit: 5 });
    expect(results.find((result) => result.id === id(2))?.score).toBe(0);
    (results[0]!.payload as Record<string, unknown>).order = 42;
    expect((await store.query('docs', { vector: [1, 0], limit: 1 }))[0]!.payload).toEqual({ order: 1 });
    await expect(store.query('docs', { vector: [1, 0], limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.query('docs', { vector: [1, 0], limit: 1, filter: { must: [{ key: 'tags' } as never] } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.query('docs', { vector: [1, 0], limit: 1, filter: { must: [{ key: 'tags', match: { value: 'a' }, range: {} }] } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(store.delete('docs', {} as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('records each method with its input, narrowed by method', async () => {
    const store = createMockVectorStore();
    await store.ensureCollection('docs', { dimensions: 2, distance: 'cosine' });
    await store.upsert('docs', points(2));
    await store.query('docs', { vector: [1, 0], limit: 1 });
    const query = store.calls.find((call) => call.method === 'query');
    expect(query?.method === 'query' && query.input.query.limit).toBe(1);
    expect(store.calls.map((call) => call.method)).toEqual(['ensureCollection', 'upsert', 'query']);
  });

  it('matchesFilter: a missing or null field matches nothing, not even mustNot', () => {
    expect(matchesFilter({ a: null }, { must: [{ key: 'a', match: { any: ['x'] } }] })).toBe(false);
    expect(matchesFilter({}, { mustNot: [{ key: 'a', match: { value: 'x' } }] })).toBe(true);
    expect(matchesFilter({ a: [1, 5] }, { must: [{ key: 'a', range: { gt: 4 } }] })).toBe(true);
    expect(matchesFilter({ a: 'x' }, { should: [] })).toBe(true);
  });

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => createMockVectorStore({ maxUpsertBatchSize: 0 })).toThrow(/`maxUpsertBatchSize`/);
    expect(() => createMockVectorStore({ supportsQueryBatch: 'no' as unknown as boolean })).toThrow(/`supportsQueryBatch`/);
    expect(() => createMockVectorStore({ collections: { docs: { dimensions: 0 } } })).toThrow(/`collections.docs.dimensions`/);
    expect(() => createMockVectorStore({ collections: { docs: { dimensions: 3, points: points(1) } } })).toThrow(/`collections.docs.points`/);
  });
});
