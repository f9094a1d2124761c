import assert from 'node:assert/strict';
import type { Filter, Payload, ScoredPoint, VectorPoint, VectorQuery, VectorStore } from '../contracts/vector-store.ts';
import { invalidOption } from '../errors/validate-option.ts';
import { expectAidocError, expectFiniteNumbers } from './conformance-assertions.ts';
import { applySkips, skipCheck, validateConformanceOptions, withAdapter, type ConformanceCheck, type ConformanceOptions } from './conformance-check.ts';
import { faultChecks } from './fault-checks.ts';
import { registerConformanceSuite } from './register-conformance-suite.ts';

/** What `cleanup` learns: the collections the check created, to drop them. */
export interface VectorStoreCleanupContext {
  readonly collections: readonly string[];
}

export interface VectorStoreConformanceOptions<S extends VectorStore = VectorStore> extends ConformanceOptions<S> {
  /**
   * Runs after each check with the instance it used and the collections it created (the
   * contract has no way to drop a collection; a real store's test drops them here).
   */
  readonly cleanup?: (store: S, context: VectorStoreCleanupContext) => void | Promise<void>;
  /**
   * Prefix of the collections the checks create; each gets a unique suffix, so runs against a
   * shared server do not collide.
   * @default 'aidoc-conformance'
   */
  readonly collectionPrefix?: string;
  /** Registers the adapter's own tests inside the suite's `describe`. */
  readonly additionalTests?: () => void;
}

/** Four dimensions are enough to make the expected cosine ranking exact and obvious. */
const DIMENSIONS = 4;

/** Fixture points (UUID ids, as Qdrant requires) with payloads covering every filter form. */
export const CONFORMANCE_POINTS: readonly VectorPoint[] = [
  point(1, [1, 0, 0, 0], { source: 'a.md', kind: 'guideline', year: 2019, current: true, tags: ['diabetes', 'renal'], text: 'metformin and renal function' }),
  point(2, [0.9, 0.1, 0, 0], { source: 'a.md', kind: 'guideline', year: 2021, current: false, tags: ['diabetes'], text: 'HbA1c targets' }),
  point(3, [0, 1, 0, 0], { source: 'b.md', kind: 'note', year: 2023, current: true, tags: ['cardiology'], text: 'blood pressure' }),
  point(4, [0, 0, 1, 0], { source: 'b.md', kind: 'guideline', year: 2024, current: true, tags: [], text: 'vaccination', reviewedBy: null }),
  point(5, [-1, 0, 0, 0], { source: 'c.md', kind: 'note', year: 2020, current: false, tags: ['renal'], text: 'dialysis', scores: [1, 2] }),
];

const [P1, P2, P3, P4, P5] = CONFORMANCE_POINTS.map((fixture) => fixture.id) as [string, string, string, string, string];
const MISSING_ID = uuid(999);

/** Filters and the fixture ids each must select. */
const FILTER_CASES: readonly { readonly label: string; readonly filter: Filter; readonly ids: readonly string[] }[] = [
  { label: 'must match value', filter: { must: [{ key: 'source', match: { value: 'a.md' } }] }, ids: [P1, P2] },
  { label: 'must match boolean', filter: { must: [{ key: 'current', match: { value: true } }] }, ids: [P1, P3, P4] },
  { label: 'match value on an array field', filter: { must: [{ key: 'tags', match: { value: 'cardiology' } }] }, ids: [P3] },
  { label: 'match any on an array field', filter: { must: [{ key: 'tags', match: { any: ['renal', 'oncology'] } }] }, ids: [P1, P5] },
  { label: 'match any of numbers', filter: { must: [{ key: 'year', match: { any: [2019, 2020] } }] }, ids: [P1, P5] },
  { label: 'range gte/lt', filter: { must: [{ key: 'year', range: { gte: 2021, lt: 2024 } }] }, ids: [P2, P3] },
  { label: 'range gt/lte', filter: { must: [{ key: 'year', range: { gt: 2021, lte: 2024 } }] }, ids: [P3, P4] },
  {
    label: 'should (any of)',
    filter: { should: [{ key: 'source', match: { value: 'b.md' } }, { key: 'kind', match: { value: 'note' } }] },
    ids: [P3, P4, P5],
  },
  { label: 'mustNot', filter: { mustNot: [{ key: 'kind', match: { value: 'note' } }] }, ids: [P1, P2, P4] },
  {
    label: 'must with mustNot',
    filter: { must: [{ key: 'kind', match: { value: 'guideline' } }], mustNot: [{ key: 'tags', match: { any: ['renal'] } }] },
    ids: [P2, P4],
  },
  {
    label: 'must with should',
    filter: {
      must: [{ key: 'year', range: { gte: 2020 } }],
      should: [{ key: 'tags', match: { value: 'renal' } }, { key: 'current', match: { value: true } }],
    },
    ids: [P3, P4, P5],
  },
];

/**
 * The VectorStore conformance checks as plain async functions (see {@link testVectorStore}).
 */
export function vectorStoreConformanceChecks<S extends VectorStore>(options: VectorStoreConformanceOptions<S>): ConformanceCheck[] {
  validateConformanceOptions(options);
  const prefix = options.collectionPrefix ?? 'aidoc-conformance';
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) throw invalidOption('collectionPrefix', 'letters, digits, _ or - (1 to 64)', prefix);
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  let counter = 0;

  /** Runs `fn` with a fresh store and a generator of unique collection names; cleans up both. */
  const use = async (fn: (store: S, collection: () => string) => Promise<void>): Promise<void> => {
    const collections: string[] = [];
    const collection = (): string => {
      const name = `${prefix}-${run}-${++counter}`;
      collections.push(name);
      return name;
    };
    await withAdapter(options.create, (store) => options.cleanup?.(store, { collections }), (store) => fn(store, collection));
  };
  /** A collection holding the fixture points. */
  const seeded = async (store: S, name: string): Promise<string> => {
    await store.ensureCollection(name, { dimensions: DIMENSIONS, distance: 'cosine', payloadIndexes: ['source', 'kind', 'year', 'current', 'tags'] });
    await store.upsert(name, CONFORMANCE_POINTS);
    return name;
  };
  const signal = (): { signal: AbortSignal } => ({ signal: new AbortController().signal });

  const checks: ConformanceCheck[] = [
    {
      name: 'declares its capabilities',
      run: () =>
        use(async (store) => {
          assert.equal(store.specificationVersion, 'v1', 'specificationVersion');
          assert.ok(typeof store.provider === 'string' && store.provider !== '', 'provider must be a non-empty string');
          assert.equal(typeof store.supportsQueryBatch, 'boolean', 'supportsQueryBatch must be a boolean');
          assert.ok(Number.isInteger(store.maxUpsertBatchSize) && store.maxUpsertBatchSize > 0, 'maxUpsertBatchSize must be a positive integer');
          if (store.supportsQueryBatch) assert.equal(typeof store.queryBatch, 'function', 'supportsQueryBatch is true but queryBatch is missing');
          await Promise.resolve();
        }),
    },
    {
      name: 'ensureCollection is idempotent and rejects other dimensions with INVALID_INPUT',
      run: () =>
        use(async (store, collection) => {
          const name = collection();
          await store.ensureCollection(name, { dimensions: DIMENSIONS, distance: 'cosine' }, signal());
          await store.ensureCollection(name, { dimensions: DIMENSIONS, distance: 'cosine' }, signal());
          const info = await store.info(name, signal());
          assert.deepEqual(info, { name, exists: true, pointCount: 0, dimensions: DIMENSIONS }, 'info of a new empty collection');
          await expectAidocError(store.ensureCollection(name, { dimensions: DIMENSIONS + 1, distance: 'cosine' }, signal()), 'INVALID_INPUT', 'ensureCollection with other dimensions');
          assert.equal((await store.info(name)).dimensions, DIMENSIONS, 'a rejected ensureCollection changed the dimensions');
        }),
    },
    {
      name: 'upsert is idempotent by id and replaces payloads',
      run: () =>
        use(async (store, collection) => {
          const name = await seeded(store, collection());
          await store.upsert(name, CONFORMANCE_POINTS, signal());
          assert.equal((await store.info(name)).pointCount, CONFORMANCE_POINTS.length, 'upserting the same points twice must not duplicate them');
          const replaced: VectorPoint = { ...CONFORMANCE_POINTS[0]!, payload: { source: 'a.md', kind: 'guideline', year: 2025, current: true, tags: ['renal'], text: 'revised' } };
          await store.upsert(name, [replaced], signal());
          assert.equal((await store.info(name)).pointCount, CONFORMANCE_POINTS.length, 'replacing a point must not add one');
          const [top] = await store.query(name, { vector: [1, 0, 0, 0], limit: 1 }, signal());
          assert.equal(top?.id, P1);
          assert.deepEqual(top.payload, replaced.payload, 'the upsert must replace the payload');
        }),
    },
    {
      name: 'rejects vectors of the wrong dimensions with INVALID_INPUT',
      run: () =>
        use(async (store, collection) => {
          const name = await seeded(store, collection());
          await expectAidocError(store.upsert(name, [{ id: uuid(100), vector: [1, 0, 0], payload: {} }], signal()), 'INVALID_INPUT', 'upsert of a 3-dimensional vector');
          await expectAidocError(store.query(name, { vector: [1, 0, 0, 0, 0], limit: 1 }, signal()), 'INVALID_INPUT', 'query with a 5-dimensional vector');
          assert.equal((await store.info(name)).pointCount, CONFORMANCE_POINTS.length, 'a rejected upsert wrote points');
        }),
    },
    {
      name: 'query ranks by cosine similarity, nearest first, scores in [-1, 1]',
      run: () =>
        use(async (store, collection) => {
          const name = await seeded(store, collection());
          const results = await store.query(name, { vector: [1, 0, 0, 0], limit: 10 }, signal());
          assert.equal(results.length, CONFORMANCE_POINTS.length, 'limit 10 over 5 points returns all 5');
          expectRanked(results);
          assert.deepEqual(results.slice(0, 2).map((result) => result.id), [P1, P2], 'the identical vector first, then the nearest');
          assert.equal(results.at(-1)?.id, P5, 'the opposite vector last');
          expectScore(results, P1, 1);
          expectScore(results, P2, 0.9 / Math.sqrt(0.82));
          expectScore(results, P3, 0);
          expectScore(results, P5, -1);
          // Cosine ignores length: a scaled query ranks and scores the same.
          const scaled = await store.query(name, { vector: [3, 0, 0, 0], limit: 2 }, signal());
          assert.deepEqual(scaled.map((result) => result.id), [P1, P2], 'a scaled query vector must rank the same');
          expectScore(scaled, P1, 1);
        }),
    },
    {
      name: 'query honours limit and scoreThreshold and returns payloads',
      run: () =>
        use(async (store, collection) => {
          const name = await seeded(store, collection());
          const limited = await store.query(name, { vector: new Float32Array([1, 0, 0, 0]), limit: 2 }, signal());
          assert.deepEqual(limited.map((result) => result.id), [P1, P2], 'limit 2');
          const thresholded = await store.query(name, { vector: [1, 0, 0, 0], limit: 10, scoreThreshold: 0.5 }, signal());
          assert.deepEqual(thresholded.map((result) => result.id), [P1, P2], 'scoreThreshold 0.5');
          for (const fixture of CONFORMANCE_POINTS) {
            const [hit] = await store.query(name, { vector: fixture.vector, limit: 1 }, signal());
            assert.equal(hit?.id, fixture.id, `querying with point ${fixture.id}'s own vector`);
            assert.deepEqual(hit.payload, fixture.payload, `payload of ${fixture.id} must round-trip unchanged`);
          }
        }),
    },
    {
      name: 'query filters by payload (must, should, mustNot; value, any, range; array fields)',
      run: () =>
        use(async (store, collection) => {
          const name = await seeded(store, collection());
          for (const { label, filter, ids } of FILTER_CASES) {
            const results = await store.query(name, { vector: [0.5, 0.5, 0.5, 0.5], limit: 10, filter }, signal());
            assert.deepEqual(results.map((result) => result.id).sort(), [...ids].sort(), `filter "${label}"`);
            expectRanked(results);
          }
        }),
    },
    {
      name: 'queryBatch answers like parallel queries, in order',
      run: (control) =>
        use(async (store, collection) => {
          if (!store.supportsQueryBatch || store.queryBatch === undefined) return skipCheck(control, 'the store does not support queryBatch');
          const name = await seeded(store, collection());
          const queries: VectorQuery[] = [
            { vector: [1, 0, 0, 0], limit: 3 },
            { vector: [0, 1, 0, 0], limit: 2, filter: FILTER_CASES[0]!.filter },
            { vector: [0, 0, 1, 0], limit: 5, scoreThreshold: 0.1 },
            { vector: [0.5, 0.5, 0.5, 0.5], limit: 10, filter: FILTER_CASES[8]!.filter },
          ];
          const batched = await store.queryBatch(name, queries, signal());
          const single = await Promise.all(queries.map((query) => store.query(name, query, signal())));
          assert.equal(batched.length, queries.length, 'queryBatch returns one result list per query');
          batched.forEach((results, index) => {
            const expected = single[index]!;
            assert.deepEqual(results.map((result) => result.id), expected.map((result) => result.id), `query ${index} of the batch`);
            results.forEach((result, position) => assert.ok(Math.abs(result.score - expected[position]!.score) < 1e-4, `query ${index}: score of ${result.id}`));
          });
          assert.deepEqual(await store.queryBatch(name, [], signal()), [], 'queryBatch of no queries');
        }),
    },
    {
      name: 'scroll pages through every point exactly once',
      run: () =>
        use(async (store, collection) => {
          const name = await seeded(store, collection());
          const seen = await scrollAll(store, name, undefined);
          assert.deepEqual([...seen.keys()].sort(), CONFORMANCE_POINTS.map((fixture) => fixture.id).sort(), 'scroll must return every point once');
          for (const fixture of CONFORMANCE_POINTS) assert.deepEqual(seen.get(fixture.id), fixture.payload, `scrolled payload of ${fixture.id}`);
          const filtered = await scrollAll(store, name, FILTER_CASES[3]!.filter);
          assert.deepEqual([...filtered.keys()].sort(), [...FILTER_CASES[3]!.ids].sort(), 'scroll with a filter');
        }),
    },
    {
      name: 'delete removes points by ids (missing ids are fine) and by filter',
      run: () =>
        use(async (store, collection) => {
          const name = await seeded(store, collection());
          await store.delete(name, { ids: [P1, P2, MISSING_ID] }, signal());
          assert.equal((await store.info(name)).pointCount, 3, 'after deleting 2 of 5 by id');
          const left = await store.query(name, { vector: [1, 0, 0, 0], limit: 10 }, signal());
          assert.deepEqual(left.map((result) => result.id).sort(), [P3, P4, P5].sort(), 'points left after delete by ids');
          await store.delete(name, { filter: { must: [{ key: 'source', match: { value: 'b.md' } }] } }, signal());
          const last = await store.query(name, { vector: [1, 0, 0, 0], limit: 10 }, signal());
          assert.deepEqual(last.map((result) => result.id), [P5], 'points left after delete by filter');
          assert.equal((await store.info(name)).pointCount, 1);
        }),
    },
    {
      name: 'info of a missing collection says exists: false; query on it rejects NOT_FOUND',
      run: () =>
        use(async (store, collection) => {
          const name = collection();
          const info = await store.info(name, signal());
          assert.deepEqual(info, { name, exists: false, pointCount: 0, dimensions: undefined }, 'info of a missing collection');
          await expectAidocError(store.query(name, { vector: [1, 0, 0, 0], limit: 1 }, signal()), 'NOT_FOUND', 'query on a missing collection');
        }),
    },
    {
      name: 'every method with an already-aborted signal rejects ABORTED',
      run: () =>
        use(async (store, collection) => {
          const name = await seeded(store, collection());
          const controller = new AbortController();
          controller.abort();
          const aborted = { signal: controller.signal };
          const calls: [string, () => Promise<unknown>][] = [
            ['ensureCollection', () => store.ensureCollection(name, { dimensions: DIMENSIONS, distance: 'cosine' }, aborted)],
            ['upsert', () => store.upsert(name, [CONFORMANCE_POINTS[0]!], aborted)],
            ['query', () => store.query(name, { vector: [1, 0, 0, 0], limit: 1 }, aborted)],
            ['scroll', () => store.scroll(name, { limit: 2 }, aborted)],
            ['delete', () => store.delete(name, { ids: [P1] }, aborted)],
            ['info', () => store.info(name, aborted)],
          ];
          if (store.queryBatch !== undefined) calls.push(['queryBatch', () => store.queryBatch!(name, [{ vector: [1, 0, 0, 0], limit: 1 }], aborted)]);
          for (const [method, call] of calls) await expectAidocError(call(), 'ABORTED', `${method} with an aborted signal`, options.abortWithinMs ?? 200);
          assert.equal((await store.info(name)).pointCount, CONFORMANCE_POINTS.length, 'an aborted delete or upsert changed the collection');
        }),
    },
    ...faultChecks(options, {
      label: 'query',
      invoke: (store, abortSignal) => store.query(`${prefix}-${run}-fault`, { vector: [1, 0, 0, 0], limit: 1 }, { signal: abortSignal }),
      cleanup: (store) => options.cleanup?.(store, { collections: [] }),
    }),
  ];
  return applySkips(checks, options.skip);
}

/**
 * Registers the VectorStore conformance suite (vitest) for an adapter: collections, idempotent
 * upserts, exact cosine ranking, every filter form, queryBatch against parallel queries, scroll,
 * delete, missing collections, then abort and fault behaviour for each fixture given.
 *
 * Assumes read-your-writes: an upsert or delete is visible once it resolves (Qdrant: `wait: true`).
 *
 * @example
 * ```ts
 * testVectorStore({
 *   name: 'qdrant (loopback)',
 *   create: () => createQdrantVectorStore({ url: server.url }),
 *   cleanup: async (_store, { collections }) => { for (const name of collections) await admin.deleteCollection(name); },
 *   faults: { unavailable: () => createQdrantVectorStore({ url: failing.url }) },
 * });
 * ```
 */
export function testVectorStore<S extends VectorStore>(options: VectorStoreConformanceOptions<S>): void {
  registerConformanceSuite(`VectorStore conformance: ${options.name}`, vectorStoreConformanceChecks(options), options.additionalTests);
}

async function scrollAll(store: VectorStore, name: string, filter: Filter | undefined): Promise<Map<string, Payload>> {
  const seen = new Map<string, Payload>();
  let offset: string | undefined;
  for (let page = 0; page < 20; page++) {
    const result = await store.scroll(name, { limit: 2, filter, offset }, { signal: new AbortController().signal });
    assert.ok(result.points.length <= 2, `scroll page ${page} has ${result.points.length} points, limit 2`);
    for (const scrolled of result.points) {
      assert.ok(!seen.has(scrolled.id), `scroll returned ${scrolled.id} twice`);
      assert.ok(!('vector' in scrolled), 'scroll returns ids and payloads, not vectors');
      seen.set(scrolled.id, scrolled.payload);
    }
    if (result.nextOffset === undefined) return seen;
    offset = result.nextOffset;
  }
  return assert.fail('scroll did not reach the last page (nextOffset undefined) within 20 pages of 2 over 5 points');
}

function expectRanked(results: readonly ScoredPoint[]): void {
  expectFiniteNumbers(results.map((result) => result.score), 'scores');
  results.forEach((result, index) => {
    assert.ok(result.score >= -1 - 1e-6 && result.score <= 1 + 1e-6, `score ${result.score} of ${result.id} is outside [-1, 1]`);
    const previous = results[index - 1];
    if (previous !== undefined) assert.ok(previous.score >= result.score, `results are not sorted by score at position ${index}`);
  });
}

function expectScore(results: readonly ScoredPoint[], id: string, expected: number): void {
  const result = results.find((candidate) => candidate.id === id);
  assert.ok(result !== undefined, `${id} missing from the results`);
  assert.ok(Math.abs(result.score - expected) < 1e-3, `score of ${id}: expected cosine ${expected.toFixed(4)}, got ${result.score}`);
}

function uuid(index: number): string {
  return `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

function point(index: number, vector: readonly number[], payload: Payload): VectorPoint {
  return { id: uuid(index), vector, payload };
}
