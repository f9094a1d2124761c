// The suites must catch broken adapters: each case breaks one behaviour of a conforming mock and
// asserts exactly which checks fail (and that the conforming mock fails none).
import { describe, expect, it } from 'vitest';
import type { ChatModel, GenerateRequest } from '../src/contracts/chat-model.ts';
import type { Embedder } from '../src/contracts/embedder.ts';
import type { PatientRepository } from '../src/contracts/patient-repository.ts';
import type { VectorStore } from '../src/contracts/vector-store.ts';
import { AidocError } from '../src/errors/aidoc-error.ts';
import {
  chatModelConformanceChecks,
  createMockChatModel,
  createMockEmbedder,
  createMockPatientRepository,
  createMockVectorStore,
  defaultMockTurn,
  embedderConformanceChecks,
  examplePatientRecord,
  patientRepositoryConformanceChecks,
  runConformanceChecks,
  vectorStoreConformanceChecks,
  type ConformanceCheck,
  type MockEmbedder,
} from '../src/testing/index.ts';

async function failedChecks(checks: readonly ConformanceCheck[]): Promise<string[]> {
  return (await runConformanceChecks(checks)).map((failure) => failure.name);
}

async function failureOf(checks: readonly ConformanceCheck[], name: string): Promise<string> {
  const failure = (await runConformanceChecks(checks)).find((candidate) => candidate.name === name);
  expect(failure, `expected "${name}" to fail`).toBeDefined();
  return failure?.error instanceof Error ? failure.error.message : String(failure?.error);
}

describe('Embedder checks', () => {
  const embedderLike = (base: MockEmbedder, overrides: Partial<Embedder>): Embedder => ({
    specificationVersion: 'v1',
    provider: 'broken',
    model: 'broken',
    dimensions: base.dimensions,
    maxBatchSize: base.maxBatchSize,
    supportsParallelCalls: true,
    embed: (texts, options) => base.embed(texts, options),
    ...overrides,
  });
  const checks = (create: () => Embedder, faults = {}): ConformanceCheck[] =>
    embedderConformanceChecks({ name: 'broken', create, faults, abortWithinMs: 100 });

  it('a conforming mock fails none, fault fixtures included', async () => {
    const all = embedderConformanceChecks({
      name: 'mock',
      create: () => createMockEmbedder(),
      faults: {
        rateLimited: { create: () => createMockEmbedder({ faults: { rateLimitRate: 1, retryAfterMs: 5 } }), retryAfterMs: 5 },
        unavailable: () => createMockEmbedder({ faults: { unavailableRate: 1 } }),
        hanging: () => createMockEmbedder({ faults: { hangRate: 1 } }),
      },
    });
    expect(all.filter((check) => check.skipped !== undefined)).toEqual([]);
    expect(await failedChecks(all)).toEqual([]);
  });

  it('catches a shuffled order', async () => {
    const reversed = (): Embedder => {
      const base = createMockEmbedder();
      return embedderLike(base, { embed: async (texts, options) => (await base.embed(texts, options)).reverse() });
    };
    expect(await failedChecks(checks(reversed))).toEqual(['preserves the order of texts']);
  });

  it('catches vectors shorter than `dimensions`', async () => {
    const short = (): Embedder => {
      const base = createMockEmbedder({ dimensions: 8 });
      return embedderLike(base, { embed: async (texts, options) => (await base.embed(texts, options)).map((vector) => vector.subarray(1)) });
    };
    const failed = await failedChecks(checks(short));
    expect(failed).toContain('returns one vector of `dimensions` finite numbers per text');
    expect(await failureOf(checks(short), 'returns one vector of `dimensions` finite numbers per text')).toMatch(/7 values, dimensions says 8/);
  });

  it('catches non-finite values and a constant embedding', async () => {
    const withNaN = (): Embedder => embedderLike(createMockEmbedder({ dimensions: 2 }), { embed: (texts) => Promise.resolve(texts.map(() => new Float32Array([NaN, 1]))) });
    expect(await failureOf(checks(withNaN), 'returns one vector of `dimensions` finite numbers per text')).toMatch(/not a finite number/);
    const constant = (): Embedder => {
      const base = createMockEmbedder({ dimensions: 2 });
      return embedderLike(base, { embed: async (texts, options) => (await base.embed(texts, options)).map(() => new Float32Array([0.6, 0.8])) });
    };
    expect(await failedChecks(checks(constant))).toEqual(['tells different texts apart']);
  });

  it('catches wrong capabilities and an unenforced maxBatchSize', async () => {
    const wrongVersion = (): Embedder => embedderLike(createMockEmbedder(), { specificationVersion: 'v2' as 'v1' });
    expect(await failedChecks(checks(wrongVersion))).toEqual(['declares its capabilities']);
    // Declares 8 but sends anything to an upstream that takes 64.
    const unenforced = (): Embedder => ({ ...embedderLike(createMockEmbedder({ maxBatchSize: 64 }), {}), maxBatchSize: 8 });
    expect(await failedChecks(checks(unenforced))).toEqual(['rejects more than maxBatchSize texts with INVALID_INPUT']);
  });

  it('catches an empty batch that still sends a request', async () => {
    let mock = createMockEmbedder();
    const chatty = (): Embedder => {
      mock = createMockEmbedder();
      const base = mock;
      return embedderLike(base, { embed: async (texts, options) => (texts.length === 0 ? (await base.embed(['x'], options)).slice(0, 0) : base.embed(texts, options)) });
    };
    const all = embedderConformanceChecks({ name: 'chatty', create: chatty, upstreamCalls: () => mock.calls.filter((call) => call.reachedUpstream).length });
    expect(await failedChecks(all)).toEqual(['answers an empty batch with [] without a request']);
  });

  it('catches an adapter that ignores its signal, before and during the call', async () => {
    const deaf = (base: MockEmbedder): Embedder => embedderLike(base, { embed: (texts, options) => base.embed(texts, { kind: options.kind }) });
    const all = checks(() => deaf(createMockEmbedder()), { hanging: () => deaf(createMockEmbedder({ faults: { hangRate: 1 } })) });
    expect(await failedChecks(all)).toEqual([
      'embed with an already-aborted signal rejects ABORTED without reaching the upstream',
      'embed aborted mid-call rejects ABORTED promptly',
    ]);
    expect(await failureOf(all, 'embed aborted mid-call rejects ABORTED promptly')).toMatch(/still pending after 100 ms/);
  });

  it('catches an abort honoured too late', async () => {
    const sluggish = (): Embedder =>
      embedderLike(createMockEmbedder(), {
        embed: (_texts, options) =>
          new Promise((_resolve, reject) => {
            options.signal?.addEventListener('abort', () => setTimeout(() => reject(new AidocError('ABORTED', 'late')), 300), { once: true });
          }),
      });
    expect(await failureOf(checks(createMockEmbedder, { hanging: sluggish }), 'embed aborted mid-call rejects ABORTED promptly')).toMatch(/still pending after 100 ms/);
  });

  it('catches a hanging fixture that does not hang', async () => {
    expect(await failureOf(checks(createMockEmbedder, { hanging: createMockEmbedder }), 'embed aborted mid-call rejects ABORTED promptly')).toMatch(/settled \(resolved\) before it was aborted/);
  });

  it('catches an abort listener left on the caller’s signal', async () => {
    const leaky = (): Embedder => {
      const base = createMockEmbedder();
      return embedderLike(base, {
        embed: (texts, options) => {
          options.signal?.addEventListener('abort', () => undefined);
          return base.embed(texts, options);
        },
      });
    };
    expect(await failedChecks(checks(leaky))).toEqual(["embed leaves no abort listener on the caller's signal"]);
  });

  it('catches failures that are not AidocErrors, or lose retryAfterMs or retryable', async () => {
    const rethrowing = (transform: (error: AidocError) => Error) => (): Embedder => {
      const base = createMockEmbedder({ faults: { rateLimitRate: 1, retryAfterMs: 2_000 } });
      return embedderLike(base, { embed: (texts, options) => base.embed(texts, options).catch((error: AidocError) => Promise.reject(transform(error))) });
    };
    const name = 'embed rate limited rejects RATE_LIMITED, retryable, with retryAfterMs';
    const plain = checks(createMockEmbedder, { rateLimited: { create: rethrowing(() => new Error('HTTP 429')), retryAfterMs: 2_000 } });
    expect(await failureOf(plain, name)).toMatch(/expected an AidocError RATE_LIMITED, got Error: HTTP 429/);
    const noRetryAfter = checks(createMockEmbedder, { rateLimited: { create: rethrowing((error) => new AidocError('RATE_LIMITED', error.message)), retryAfterMs: 2_000 } });
    expect(await failureOf(noRetryAfter, name)).toMatch(/retryAfterMs must carry/);
    const notRetryable = checks(createMockEmbedder, { unavailable: rethrowing((error) => new AidocError('UPSTREAM_UNAVAILABLE', error.message, { retryable: false })) });
    expect(await failureOf(notRetryable, 'embed on an unavailable upstream rejects UPSTREAM_UNAVAILABLE, retryable')).toMatch(/must be retryable/);
    const wrongCode = checks(createMockEmbedder, { unavailable: rethrowing((error) => new AidocError('INTERNAL', error.message)) });
    expect(await failureOf(wrongCode, 'embed on an unavailable upstream rejects UPSTREAM_UNAVAILABLE, retryable')).toMatch(/expected code UPSTREAM_UNAVAILABLE, got AidocError INTERNAL/);
  });
});

describe('VectorStore checks', () => {
  type Overrides = (base: VectorStore) => Partial<VectorStore>;
  const storeLike = (overrides: Overrides, supportsQueryBatch = true) => (): VectorStore => {
    const base = createMockVectorStore({ supportsQueryBatch });
    return {
      specificationVersion: 'v1',
      provider: 'broken',
      supportsQueryBatch: base.supportsQueryBatch,
      maxUpsertBatchSize: base.maxUpsertBatchSize,
      ensureCollection: (...args) => base.ensureCollection(...args),
      upsert: (...args) => base.upsert(...args),
      query: (...args) => base.query(...args),
      ...(base.queryBatch === undefined ? {} : { queryBatch: (...args) => base.queryBatch!(...args) }),
      scroll: (...args) => base.scroll(...args),
      delete: (...args) => base.delete(...args),
      info: (...args) => base.info(...args),
      ...overrides(base),
    };
  };
  const failing = (overrides: Overrides): Promise<string[]> => failedChecks(vectorStoreConformanceChecks({ name: 'broken', create: storeLike(overrides) }));

  it('a conforming mock fails none', async () => {
    expect(await failing(() => ({}))).toEqual([]);
  });

  it('catches an upsert that is not idempotent by id', async () => {
    let fresh = 1000;
    const failed = await failing((base) => ({
      upsert: (collection, points, options) => base.upsert(collection, points.map((point) => ({ ...point, id: `00000000-0000-4000-8000-${(fresh++).toString(16).padStart(12, '0')}` })), options),
    }));
    expect(failed).toContain('upsert is idempotent by id and replaces payloads');
  });

  it('catches a score that is not cosine (a dot product with the query)', async () => {
    const failed = await failing((base) => ({
      query: async (collection, query, options) => {
        const norm = Math.hypot(...query.vector);
        return (await base.query(collection, query, options)).map((point) => ({ ...point, score: point.score * norm }));
      },
    }));
    expect(failed).toEqual(['query ranks by cosine similarity, nearest first, scores in [-1, 1]']);
  });

  it('catches filters that ignore `should`, and a delete that ignores its filter', async () => {
    expect(await failing((base) => ({ query: (collection, { filter, ...query }, options) => base.query(collection, { ...query, filter: filter && { ...filter, should: [] } }, options) }))).toEqual([
      'query filters by payload (must, should, mustNot; value, any, range; array fields)',
    ]);
    expect(await failing((base) => ({ delete: (collection, selector, options) => ('ids' in selector ? base.delete(collection, selector, options) : Promise.resolve()) }))).toEqual([
      'delete removes points by ids (missing ids are fine) and by filter',
    ]);
  });

  it('catches a queryBatch out of order, and a scroll that never ends', async () => {
    expect(await failing((base) => ({ queryBatch: async (collection, queries, options) => (await base.queryBatch!(collection, queries, options)).reverse() }))).toEqual([
      'queryBatch answers like parallel queries, in order',
    ]);
    expect(await failing((base) => ({ scroll: async (collection, request, options) => ({ ...(await base.scroll(collection, { ...request, offset: undefined }, options)), nextOffset: 'again' }) }))).toEqual([
      'scroll pages through every point exactly once',
    ]);
  });

  it('catches a missing collection answered with [] and accepted dimension mismatches', async () => {
    expect(
      await failing((base) => ({
        query: (collection, query, options) => base.query(collection, query, options).catch((error: unknown) => (AidocError.hasCode(error, 'NOT_FOUND') ? [] : Promise.reject(error as Error))),
      })),
    ).toEqual(['info of a missing collection says exists: false; query on it rejects NOT_FOUND']);
    expect(await failing((base) => ({ ensureCollection: (collection, settings, options) => base.ensureCollection(collection, settings, options).catch((error: unknown) => (AidocError.hasCode(error, 'INVALID_INPUT') ? undefined : Promise.reject(error as Error))) }))).toEqual([
      'ensureCollection is idempotent and rejects other dimensions with INVALID_INPUT',
    ]);
    expect(await failing((base) => ({ upsert: (collection, points, options) => base.upsert(collection, points.filter((point) => point.vector.length === 4), options) }))).toEqual([
      'rejects vectors of the wrong dimensions with INVALID_INPUT',
    ]);
  });

  it('catches a store that claims queryBatch without offering it, and methods that ignore an aborted signal', async () => {
    const claims = storeLike(() => ({ supportsQueryBatch: true }), false);
    expect(await failedChecks(vectorStoreConformanceChecks({ name: 'claims', create: claims }))).toEqual(['declares its capabilities']);
    expect(await failing((base) => ({ info: (collection) => base.info(collection) }))).toEqual(['every method with an already-aborted signal rejects ABORTED']);
  });
});

describe('PatientRepository checks', () => {
  const repositoryLike = (getById: PatientRepository['getById'], extra: Partial<PatientRepository> = {}): PatientRepository => ({
    specificationVersion: 'v1',
    provider: 'broken',
    getById,
    ...extra,
  });
  const records = [examplePatientRecord('1'), examplePatientRecord('2')];
  const base = createMockPatientRepository({ records });
  const failing = (repository: PatientRepository, extra = {}): Promise<string[]> =>
    failedChecks(patientRepositoryConformanceChecks({ name: 'broken', create: () => repository, knownId: '1', expected: examplePatientRecord('1'), ...extra }));

  it('a conforming mock fails none', async () => {
    expect(await failing(base)).toEqual([]);
  });

  it('catches malformed ids sent to the database', async () => {
    let queries = 0;
    // Sends whatever it gets to the database, which finds no such row.
    const unchecked = repositoryLike((id, options) => {
      if (/^[1-9]\d*$/.test(id)) return base.getById(id, options);
      queries++;
      return Promise.reject(new AidocError('NOT_FOUND', `no patient ${id}`));
    });
    expect(await failing(unchecked, { upstreamCalls: () => queries })).toEqual(['getById of a malformed id rejects INVALID_INPUT before reaching the upstream']);
  });

  it('catches a record that fails the schema or differs from the stored one', async () => {
    const withoutLabs = repositoryLike(async (id, options) => ({ ...(await base.getById(id, options)), labs: undefined as never }));
    expect(await failing(withoutLabs)).toEqual(['getById of a known id returns a record that passes PatientRecordSchema']);
    const misMapped = repositoryLike(async (id, options) => ({ ...(await base.getById(id, options)), birthDate: '1900-01-01' }));
    expect(await failing(misMapped)).toEqual(['getById of a known id returns a record that passes PatientRecordSchema']);
  });

  it('catches an unknown id reported as a plain error, and a broken listing', async () => {
    const plain = repositoryLike((id, options) => base.getById(id, options).catch((error: unknown) => Promise.reject(AidocError.hasCode(error, 'NOT_FOUND') ? new Error('no rows') : (error as Error))));
    expect(await failing(plain)).toEqual(['getById of an unknown id rejects NOT_FOUND (not retryable)']);
    const duplicated = repositoryLike((id, options) => base.getById(id, options), { list: () => Promise.resolve([{ id: '1', label: 'A' }, { id: '1', label: 'A' }]) });
    expect(await failing(duplicated)).toEqual(['list, when offered, names patients that getById finds']);
  });
});

describe('ChatModel checks', () => {
  const failing = (model: ChatModel): Promise<string[]> => failedChecks(chatModelConformanceChecks({ name: 'broken', create: () => model }));

  it('a conforming mock fails none', async () => {
    expect(await failing(createMockChatModel())).toEqual([]);
  });

  it('catches a model that ignores toolChoice, or calls another tool than the named one', async () => {
    const textOnly = createMockChatModel({ turns: () => ({ content: [{ type: 'text', text: 'I would rather not.' }] }) });
    expect(await failing(textOnly)).toEqual(["calls a tool when toolChoice is 'any'", 'calls the named tool when toolChoice is { name }']);
    const firstTool = createMockChatModel({ turns: (request) => defaultMockTurn(request.toolChoice === undefined || request.toolChoice === 'none' ? request : { ...request, toolChoice: 'any' }) });
    expect(await failing(firstTool)).toEqual(['calls the named tool when toolChoice is { name }']);
  });

  it('catches a wrong stop reason and malformed usage', async () => {
    const wrongStop = createMockChatModel({ turns: (request) => ({ ...defaultMockTurn(request), stopReason: 'end_turn' }) });
    expect(await failing(wrongStop)).toEqual(["calls a tool when toolChoice is 'any'", 'calls the named tool when toolChoice is { name }']);
    const fractional = createMockChatModel({ turns: (request) => ({ ...defaultMockTurn(request), usage: { inputTokens: 1.5, outputTokens: 2 } }) });
    expect(await failing(fractional)).toHaveLength(5);
  });

  it('catches streamed deltas that do not add up to the text', async () => {
    const base = createMockChatModel();
    const garbled: ChatModel = {
      specificationVersion: 'v1',
      provider: 'broken',
      modelId: 'broken',
      supportsParallelToolCalls: true,
      generate: (request: GenerateRequest) => {
        const { onTextDelta } = request;
        return base.generate({ ...request, onTextDelta: onTextDelta && ((text) => onTextDelta(`${text}!`)) });
      },
    };
    expect(await failing(garbled)).toEqual(['streams text through onTextDelta consistently with the result, when it streams']);
  });
});

describe('suite options', () => {
  it('reject bad options with a TypeError naming them', () => {
    expect(() => embedderConformanceChecks({ name: '', create: createMockEmbedder })).toThrow(new TypeError('Expected `name` to be a non-empty string, got `` (string)'));
    expect(() => embedderConformanceChecks({ name: 'x', create: createMockEmbedder, texts: ['a', 'a', 'b'] })).toThrow(/`texts`/);
    expect(() => embedderConformanceChecks({ name: 'x', create: createMockEmbedder, abortWithinMs: 0 })).toThrow(/`abortWithinMs`/);
    expect(() => patientRepositoryConformanceChecks({ name: 'x', create: () => createMockPatientRepository(), knownId: 'abc' })).toThrow(/`knownId`/);
    expect(() => vectorStoreConformanceChecks({ name: 'x', create: () => createMockVectorStore(), collectionPrefix: 'a b' })).toThrow(/`collectionPrefix`/);
    expect(() => embedderConformanceChecks({ name: 'x', create: createMockEmbedder, skip: { 'no such check': 'typo' } })).toThrow(/`skip`/);
  });

  it('skip marks named checks as skipped, and runConformanceChecks leaves them out', async () => {
    const deaf = (): Embedder => {
      const base = createMockEmbedder();
      return { ...base, specificationVersion: 'v1', provider: 'deaf', model: 'deaf', dimensions: 16, maxBatchSize: 64, supportsParallelCalls: true, embed: (texts, options) => base.embed(texts, { kind: options.kind }) };
    };
    const name = 'embed with an already-aborted signal rejects ABORTED without reaching the upstream';
    const checks = embedderConformanceChecks({ name: 'deaf', create: deaf, skip: { [name]: 'the vendor SDK cannot' } });
    expect(checks.find((check) => check.name === name)?.skipped).toBe('the vendor SDK cannot');
    expect(await failedChecks(checks)).toEqual([]);
  });

  it('a check that skips itself at run time is not a failure', async () => {
    const checks = vectorStoreConformanceChecks({ name: 'x', create: () => createMockVectorStore({ supportsQueryBatch: false }) });
    expect(await failedChecks(checks)).toEqual([]);
    const batch = checks.find((check) => check.name.startsWith('queryBatch'));
    await expect(batch?.run({ skip: (reason) => { throw new Error(`skipped: ${reason}`); } })).rejects.toThrow('skipped: the store does not support queryBatch');
  });
});
