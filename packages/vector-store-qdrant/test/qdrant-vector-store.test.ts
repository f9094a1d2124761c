import { AidocError, type VectorPoint } from '@aidoc/core';
import { CONFORMANCE_POINTS } from '@aidoc/core/testing';
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startQdrantLoopbackServer, type QdrantLoopbackRequest } from '@aidoc/loopback-servers';
import { createQdrantVectorStore } from '../src/index.ts';
import { toQdrantFilter } from '../src/qdrant-filter.ts';
import { rejectionOf } from '@aidoc/core/testing';

const server = await startQdrantLoopbackServer();
const secured = await startQdrantLoopbackServer({ apiKey: 'loopback-secret' });

afterEach(() => {
  vi.unstubAllEnvs();
  server.clearFaults();
});
afterAll(async () => {
  await Promise.all([server.close(), secured.close()]);
});

const store = (settings: Parameters<typeof createQdrantVectorStore>[0] = {}) => createQdrantVectorStore({ url: server.url, checkCompatibility: false, ...settings });
const signal = () => ({ signal: new AbortController().signal });
let collectionCounter = 0;
const uniqueCollection = () => `adapter-test-${++collectionCounter}`;

async function seeded(points: readonly VectorPoint[] = CONFORMANCE_POINTS): Promise<string> {
  const name = uniqueCollection();
  const seeder = store();
  await seeder.ensureCollection(name, { dimensions: 4, distance: 'cosine' });
  await seeder.upsert(name, points);
  return name;
}

/** The requests `fn` caused, in order. */
async function requestsDuring(fn: () => Promise<unknown>, target = server): Promise<QdrantLoopbackRequest[]> {
  const before = target.requests.length;
  await fn();
  return target.requests.slice(before);
}

function uuid(index: number): string {
  return `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

describe('settings', () => {
  it('needs a URL, naming the setting and its environment variable', () => {
    vi.stubEnv('QDRANT_URL', '');
    expect(() => createQdrantVectorStore()).toThrow(TypeError);
    expect(() => createQdrantVectorStore()).toThrow(/`url` \(or the QDRANT_URL environment variable\)/);
    expect(() => createQdrantVectorStore({ url: 'localhost:6333' })).toThrow(/`url`.*http\(s\) URL/);
  });

  it('reads QDRANT_URL and QDRANT_API_KEY from the environment', async () => {
    vi.stubEnv('QDRANT_URL', secured.url);
    vi.stubEnv('QDRANT_API_KEY', 'loopback-secret');
    vi.spyOn(console, 'warn').mockImplementation(() => undefined); // the SDK warns about an API key over http
    const fromEnvironment = createQdrantVectorStore({ checkCompatibility: false });
    const requests = await requestsDuring(() => fromEnvironment.info('anything', signal()), secured);
    expect(requests.map((request) => [request.headers['api-key'], request.status])).toEqual([['loopback-secret', 404]]);
  });

  it('rejects bad settings p-queue style, naming the setting', () => {
    expect(() => store({ upsertBatchSize: 0 })).toThrow(/Expected `upsertBatchSize` to be a positive integer, got `0` \(number\)/);
    expect(() => store({ timeoutMs: -1 })).toThrow(/`timeoutMs`/);
    expect(() => store({ maxConnections: 1.5 })).toThrow(/`maxConnections`/);
    expect(() => store({ apiKey: '' })).toThrow(/`apiKey` \(or the QDRANT_API_KEY environment variable\)/);
    expect(() => store({ payloadIndexTypes: { year: 'number' as 'integer' } })).toThrow(/`payloadIndexTypes.year`/);
    const client = new QdrantClient({ url: server.url, checkCompatibility: false });
    expect(() => createQdrantVectorStore({ client, url: server.url })).toThrow(/either `client` or `url`/);
    expect(() => createQdrantVectorStore({ client: {} as QdrantClient })).toThrow(/`client`/);
  });

  it('declares its capabilities', () => {
    const qdrant = store({ upsertBatchSize: 64 });
    expect(qdrant).toMatchObject({ specificationVersion: 'v1', provider: 'qdrant', supportsQueryBatch: true, maxUpsertBatchSize: 64 });
    expect(store().maxUpsertBatchSize).toBe(256);
  });
});

describe('one client per store', () => {
  it('reuses keep-alive connections: ten sequential calls, at most two connections', async () => {
    const name = await seeded();
    const qdrant = store();
    const requests = await requestsDuring(async () => {
      for (let index = 0; index < 10; index++) await qdrant.query(name, { vector: [1, 0, 0, 0], limit: 1 }, signal());
    });
    expect(requests).toHaveLength(10);
    // undici's pool may alternate between two idle sockets; a client per call would open ten.
    expect(new Set(requests.map((request) => request.connection)).size).toBeLessThanOrEqual(2);
  });

  it('uses an injected client as it is (its URL, its headers)', async () => {
    const client = new QdrantClient({ url: server.url, checkCompatibility: false, timeout: Infinity, headers: { 'x-app': 'aidoc-test' } });
    const requests = await requestsDuring(() => createQdrantVectorStore({ client }).info('missing', signal()));
    expect(requests.map((request) => request.headers['x-app'])).toEqual(['aidoc-test']);
  });
});

describe('translation to Qdrant requests', () => {
  it('translates the filter language', () => {
    expect(
      toQdrantFilter({
        must: [
          { key: 'source', match: { value: 'a.md' } },
          { key: 'tags', match: { any: ['renal', 'renal', 'oncology'] } },
        ],
        should: [{ key: 'year', range: { gte: 2020, lt: 2024 } }],
        mustNot: [
          { key: 'current', match: { value: false } },
          { key: 'year', match: { any: [2019, 2020] } },
        ],
      }),
    ).toEqual({
      must: [
        { key: 'source', match: { value: 'a.md' } },
        { key: 'tags', match: { any: ['renal', 'oncology'] } },
      ],
      should: [{ key: 'year', range: { gte: 2020, lt: 2024 } }],
      must_not: [
        { key: 'current', match: { value: false } },
        { key: 'year', match: { any: [2019, 2020] } },
      ],
    });
    expect(toQdrantFilter({ must: [], should: [], mustNot: [] })).toEqual({});
    // Qdrant matches only strings, integers and booleans by value: a fractional number becomes the equivalent range.
    expect(toQdrantFilter({ must: [{ key: 'dose', match: { value: 2.5 } }] })).toEqual({ must: [{ key: 'dose', range: { gte: 2.5, lte: 2.5 } }] });
  });

  it('refuses filters Qdrant cannot run, before any request', async () => {
    const name = await seeded();
    const qdrant = store();
    const before = server.requests.length;
    const mixed = await rejectionOf(qdrant.query(name, { vector: [1, 0, 0, 0], limit: 5, filter: { must: [{ key: 'year', match: { any: ['2019', 2019] } }] } }, signal()));
    expect(mixed.code).toBe('INVALID_INPUT');
    expect(mixed.message).toMatch(/only strings or only integers/);
    const malformed = await rejectionOf(qdrant.query(name, { vector: [1, 0, 0, 0], limit: 5, filter: { must: [{ key: '', match: { value: 'x' } }] } }, signal()));
    expect(malformed.code).toBe('INVALID_INPUT');
    const notFinite = await rejectionOf(qdrant.upsert(name, [{ id: uuid(50), vector: [1, Number.NaN, 0, 0], payload: {} }], signal()));
    expect(notFinite.code).toBe('INVALID_INPUT');
    expect(notFinite.message).toMatch(/points\[0\]\.vector\[1\]/);
    expect(server.requests.length).toBe(before);
  });

  it('sends the Universal Query API request: vector as an array, filter, payloads, threshold', async () => {
    const name = await seeded();
    const [request] = await requestsDuring(() =>
      store().query(name, { vector: new Float32Array([0.5, 0.5, 0, 0]), limit: 3, scoreThreshold: 0.25, filter: { mustNot: [{ key: 'kind', match: { value: 'note' } }] } }, signal()),
    );
    expect(request).toMatchObject({ method: 'POST', path: `/collections/${name}/points/query`, status: 200 });
    expect(request?.body).toEqual({
      query: [0.5, 0.5, 0, 0],
      limit: 3,
      with_payload: true,
      score_threshold: 0.25,
      filter: { must_not: [{ key: 'kind', match: { value: 'note' } }] },
    });
  });

  it('runs a fractional match as a range, with the same result as the contract', async () => {
    const name = await seeded([
      { id: uuid(1), vector: [1, 0, 0, 0], payload: { dose: 2.5 } },
      { id: uuid(2), vector: [0, 1, 0, 0], payload: { dose: 2 } },
    ]);
    const results = await store().query(name, { vector: [1, 1, 0, 0], limit: 5, filter: { must: [{ key: 'dose', match: { value: 2.5 } }] } }, signal());
    expect(results.map((result) => result.id)).toEqual([uuid(1)]);
  });

  it('upserts in batches of maxUpsertBatchSize, with wait=true, ids as UUID strings, vectors as arrays', async () => {
    const name = uniqueCollection();
    const qdrant = store({ upsertBatchSize: 2 });
    await qdrant.ensureCollection(name, { dimensions: 4, distance: 'cosine' });
    const points = CONFORMANCE_POINTS.map((point) => ({ ...point, vector: Float32Array.from(point.vector) }));
    const requests = await requestsDuring(() => qdrant.upsert(name, points, signal()));
    expect(requests.map((request) => request.operationId)).toEqual(['upsert_points', 'upsert_points', 'upsert_points']);
    expect(requests.map((request) => request.query)).toEqual([{ wait: 'true' }, { wait: 'true' }, { wait: 'true' }]);
    const sent = requests.map((request) => (request.body as { points: { id: unknown; vector: unknown }[] }).points);
    expect(sent.map((batch) => batch.length)).toEqual([2, 2, 1]);
    expect(sent.flat().map((point) => point.id)).toEqual(CONFORMANCE_POINTS.map((point) => point.id));
    expect(sent.flat().every((point) => Array.isArray(point.vector))).toBe(true);
    expect(server.pointCount(name)).toBe(5);
    expect(await requestsDuring(() => qdrant.upsert(name, [], signal()))).toEqual([]);
  });

  it('serves queryBatch with one HTTP request', async () => {
    const name = await seeded();
    const qdrant = store();
    const queries = [
      { vector: [1, 0, 0, 0], limit: 2 },
      { vector: [0, 1, 0, 0], limit: 1, filter: { must: [{ key: 'kind', match: { value: 'note' } }] } },
      { vector: [0, 0, 1, 0], limit: 3, scoreThreshold: 0.5 },
    ] as const;
    let results: Awaited<ReturnType<NonNullable<typeof qdrant.queryBatch>>> = [];
    const requests = await requestsDuring(async () => {
      results = await qdrant.queryBatch!(name, queries, signal());
    });
    expect(requests.map((request) => [request.method, request.path])).toEqual([['POST', `/collections/${name}/points/query/batch`]]);
    expect((requests[0]?.body as { searches: unknown[] }).searches).toHaveLength(3);
    expect(results.map((list) => list.map((result) => result.id))).toEqual([[uuid(1), uuid(2)], [uuid(3)], [uuid(4)]]);
  });

  it('creates the collection with Cosine and keyword payload indexes (or the configured type), once', async () => {
    const name = uniqueCollection();
    const qdrant = store({ payloadIndexTypes: { year: 'integer' } });
    const first = await requestsDuring(() => qdrant.ensureCollection(name, { dimensions: 8, distance: 'cosine', payloadIndexes: ['source', 'year'] }, signal()));
    expect(first.map((request) => [request.operationId, request.status])).toEqual([
      ['get_collection', 404],
      ['create_collection', 200],
      ['create_field_index', 200],
      ['create_field_index', 200],
    ]);
    expect(first[1]?.body).toEqual({ vectors: { size: 8, distance: 'Cosine' } });
    expect(first.slice(2).map((request) => [request.body, request.query])).toEqual([
      [{ field_name: 'source', field_schema: 'keyword' }, { wait: 'true' }],
      [{ field_name: 'year', field_schema: 'integer' }, { wait: 'true' }],
    ]);
    const again = await requestsDuring(() => qdrant.ensureCollection(name, { dimensions: 8, distance: 'cosine', payloadIndexes: ['source', 'year', 'kind'] }, signal()));
    expect(again.map((request) => request.operationId)).toEqual(['get_collection', 'create_field_index']);
    expect(again[1]?.body).toEqual({ field_name: 'kind', field_schema: 'keyword' });
  });

  it('lets concurrent ensureCollection calls race (409 means "check what exists")', async () => {
    const name = uniqueCollection();
    const qdrant = store();
    await Promise.all([1, 2, 3].map(() => qdrant.ensureCollection(name, { dimensions: 4, distance: 'cosine' }, signal())));
    expect(server.requests.filter((request) => request.path === `/collections/${name}` && request.status === 409).length).toBeGreaterThan(0);
    expect(await qdrant.info(name, signal())).toEqual({ name, exists: true, pointCount: 0, dimensions: 4 });
  });

  it('round-trips integer ids written by other tools through scroll and delete', async () => {
    const name = await seeded();
    const admin = new QdrantClient({ url: server.url, checkCompatibility: false });
    await admin.upsert(name, { wait: true, points: [{ id: 7, vector: [0, 0, 0, 1], payload: { source: 'legacy' } }] });
    const qdrant = store();
    const page = await qdrant.scroll(name, { limit: 2 }, signal());
    expect(page.points[0]).toEqual({ id: '7', payload: { source: 'legacy' } });
    const next = await qdrant.scroll(name, { limit: 2, offset: page.nextOffset }, signal());
    expect(next.points.map((point) => point.id)).toEqual([uuid(2), uuid(3)]);
    await qdrant.delete(name, { ids: ['7'] }, signal());
    expect(server.pointCount(name)).toBe(5);
  });

  it('deletes by filter with wait=true', async () => {
    const name = await seeded();
    const [request] = await requestsDuring(() => store().delete(name, { filter: { must: [{ key: 'source', match: { value: 'a.md' } }] } }, signal()));
    expect(request).toMatchObject({ operationId: 'delete_points', query: { wait: 'true' }, body: { filter: { must: [{ key: 'source', match: { value: 'a.md' } }] } } });
    expect(server.pointCount(name)).toBe(3);
  });
});

describe('API key', () => {
  beforeEach(() => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined); // the SDK warns about an API key over http
  });

  it('sends the api-key header', async () => {
    const requests = await requestsDuring(() => store({ url: secured.url, apiKey: 'loopback-secret' }).info('missing', signal()), secured);
    expect(requests.map((request) => [request.headers['api-key'], request.status])).toEqual([['loopback-secret', 404]]);
  });

  it('maps a refused key to INVALID_INPUT (not retryable), naming the setting', async () => {
    const wrong = await rejectionOf(store({ url: secured.url, apiKey: 'wrong' }).info('missing', signal()));
    expect(wrong).toMatchObject({ code: 'INVALID_INPUT', retryable: false });
    expect(wrong.details?.status).toBe(403);
    expect(wrong.message).toMatch(/QDRANT_API_KEY/);
    const none = await rejectionOf(store({ url: secured.url }).info('missing', signal()));
    expect(none.code).toBe('INVALID_INPUT');
    expect(none.details?.status).toBe(401);
  });
});

describe('abort, timeouts and failures', () => {
  it('aborting mid-call closes the connection on the server side', async () => {
    const name = await seeded();
    server.failNext({ hang: true });
    const controller = new AbortController();
    const call = store().query(name, { vector: [1, 0, 0, 0], limit: 1 }, { signal: controller.signal });
    await vi.waitFor(() => expect(server.requests.at(-1)?.fault).toBe('hang'));
    const hung = server.requests.at(-1)!;
    expect(hung.closedByClient).toBe(false);
    controller.abort();
    const error = await rejectionOf(call);
    expect(error).toMatchObject({ code: 'ABORTED', retryable: false });
    await vi.waitFor(() => expect(hung.closedByClient).toBe(true));
  });

  it('rejects with the caller signal\'s AidocError reason (core\'s TIMEOUT) when it has one', async () => {
    server.failNext({ hang: true });
    const controller = new AbortController();
    const call = store().info('any', { signal: controller.signal });
    await vi.waitFor(() => expect(server.requests.at(-1)?.fault).toBe('hang'));
    controller.abort(new AidocError('TIMEOUT', 'core deadline'));
    expect(await rejectionOf(call)).toMatchObject({ code: 'TIMEOUT', message: 'core deadline' });
  });

  it('times a request out after timeoutMs: TIMEOUT, retryable, connection closed', async () => {
    server.failNext({ hang: true });
    const started = performance.now();
    const error = await rejectionOf(store({ timeoutMs: 100 }).info('any', signal()));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(performance.now() - started).toBeLessThan(2000);
    await vi.waitFor(() => expect(server.requests.at(-1)?.closedByClient).toBe(true));
  });

  it('rejects ABORTED at once with an injected client whose own timeout hides the signal', async () => {
    const client = new QdrantClient({ url: server.url, checkCompatibility: false, timeout: 5_000 });
    server.failNext({ hang: true });
    const controller = new AbortController();
    const call = createQdrantVectorStore({ client }).info('any', { signal: controller.signal });
    await vi.waitFor(() => expect(server.requests.at(-1)?.fault).toBe('hang'));
    const started = performance.now();
    controller.abort();
    expect((await rejectionOf(call)).code).toBe('ABORTED');
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('maps a server that dies mid-request to UPSTREAM_UNAVAILABLE (retryable)', async () => {
    const name = await seeded();
    for (const dropConnection of ['mid-response', 'before-response'] as const) {
      server.failNext({ dropConnection });
      const error = await rejectionOf(store().query(name, { vector: [1, 0, 0, 0], limit: 1 }, signal()));
      expect(error, dropConnection).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    }
  });

  it('maps a refused connection to UPSTREAM_UNAVAILABLE', async () => {
    const gone = await startQdrantLoopbackServer();
    await gone.close();
    const error = await rejectionOf(store({ url: gone.url }).info('any', signal()));
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('maps 429 to RATE_LIMITED with retryAfterMs from retry-after', async () => {
    server.failNext({ status: 429, retryAfterSeconds: 4 });
    expect(await rejectionOf(store().info('any', signal()))).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 4000 });
    server.failNext({ status: 429 });
    expect(await rejectionOf(store().info('any', signal()))).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: undefined });
    server.failNext({ status: 429, retryAfter: 'Wed, 21 Oct 2099 07:28:00 GMT' });
    expect(await rejectionOf(store().info('any', signal()))).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: undefined });
  });

  it('pins an SDK 1.19 quirk: only the first character of retry-after survives (30 s arrives as 3 s)', async () => {
    // If this fails after an SDK upgrade, the SDK reads the whole header: update the docs' limits.
    server.failNext({ status: 429, retryAfterSeconds: 30 });
    expect(await rejectionOf(store().info('any', signal()))).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 3000 });
  });

  it('maps 5xx to UPSTREAM_UNAVAILABLE, 400 to INVALID_INPUT with Qdrant\'s words, 404 to NOT_FOUND', async () => {
    const name = await seeded();
    server.failNext({ status: 502 });
    expect(await rejectionOf(store().query(name, { vector: [1, 0, 0, 0], limit: 1 }, signal()))).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    const invalid = await rejectionOf(store().query(name, { vector: [1, 0, 0, 0], limit: 0 }, signal()));
    expect(invalid).toMatchObject({ code: 'INVALID_INPUT', retryable: false });
    expect(invalid.message).toMatch(/400.*\/limit/);
    const missing = await rejectionOf(store().scroll('no-such-collection', { limit: 1 }, signal()));
    expect(missing).toMatchObject({ code: 'NOT_FOUND', retryable: false });
    expect(missing.message).toMatch(/no-such-collection/);
  });

  it('maps malformed answers to INVALID_OUTPUT', async () => {
    const name = await seeded();
    const qdrant = store();
    server.failNext({ rawResponse: { body: '{"result": {"points": [' } });
    expect((await rejectionOf(qdrant.query(name, { vector: [1, 0, 0, 0], limit: 1 }, signal()))).code).toBe('INVALID_OUTPUT');
    // Valid per the spec (every envelope field is optional) but useless: no result.
    server.failNext({ transformResponse: () => ({ status: 'ok', time: 0 }) });
    expect((await rejectionOf(qdrant.query(name, { vector: [1, 0, 0, 0], limit: 1 }, signal()))).code).toBe('INVALID_OUTPUT');
    server.failNext({ transformResponse: () => ({ result: [{ points: [] }], status: 'ok', time: 0 }) });
    const batch = await rejectionOf(qdrant.queryBatch!(name, [{ vector: [1, 0, 0, 0], limit: 1 }, { vector: [0, 1, 0, 0], limit: 1 }], signal()));
    expect(batch.message).toMatch(/1 result lists for 2 queries/);
    server.failNext({ rawResponse: { status: 204, body: '' } });
    expect((await rejectionOf(qdrant.info(name, signal()))).code).toBe('INVALID_OUTPUT');
  });

  it('rejects ensureCollection on a collection of other dimensions without touching it', async () => {
    const name = await seeded();
    const error = await rejectionOf(store().ensureCollection(name, { dimensions: 8, distance: 'cosine', payloadIndexes: ['source'] }, signal()));
    expect(error).toMatchObject({ code: 'INVALID_INPUT', details: { collection: name, dimensions: 4 } });
    expect(server.requests.at(-1)?.operationId).toBe('get_collection');
  });
});
