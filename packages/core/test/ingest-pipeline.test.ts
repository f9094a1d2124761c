import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { ConcurrencyPool } from '../src/executor/pool.ts';
import { resetPools } from '../src/executor/pool-registry.ts';
import { planEmbeddingBatches } from '../src/pipelines/ingest/embedding-batches.ts';
import type { IngestProgress } from '../src/pipelines/ingest/ingest-progress.ts';
import { createIngestPipeline, type IngestPipelineOptions } from '../src/pipelines/ingest/ingest-pipeline.ts';
import type { IngestReport } from '../src/pipelines/ingest/ingest-report.ts';
import type { InlineDocument } from '../src/pipelines/ingest/ingest-sources.ts';
import { createMockEmbedder, createMockVectorStore, hashEmbedding, type MockEmbedder, type MockVectorStore } from '../src/testing/index.ts';
import { runTraced } from '../src/tracing/trace-context.ts';
import { guideline, pointsBySource, progressLog, sentences, tokensOf } from './fixtures/ingest/ingest-helpers.ts';
import { rejectionOf } from '../src/testing/index.ts';

const COLLECTION = 'guidelines';

afterEach(() => {
  resetPools();
});

function pipelineFor(embedder: MockEmbedder, store: MockVectorStore, options: Partial<IngestPipelineOptions> = {}) {
  return createIngestPipeline({ embedder, vectorStore: store, collection: COLLECTION, chunking: { maxTokens: 30, overlapTokens: 0 }, ...options });
}

/** Rejection of `promise` as an AidocError. */
const version1: InlineDocument[] = [
  { id: 'a', text: guideline({ title: 'Asthma' }) },
  { id: 'b', text: guideline({ title: 'Bronchitis' }) },
  { id: 'c', text: guideline({ title: 'COPD', sections: 3 }) },
];
/** `a` unchanged, one paragraph of `b` revised, `c` lost its last section. */
const version2: InlineDocument[] = [
  { id: 'a', text: guideline({ title: 'Asthma' }) },
  { id: 'b', text: guideline({ title: 'Bronchitis', edit: [1, 0] }) },
  { id: 'c', text: guideline({ title: 'COPD', sections: 2 }) },
];

/** What a clean run of `documents` into an empty store leaves: id → payload. */
async function reference(documents: InlineDocument[]): Promise<Map<string, unknown>> {
  const store = createMockVectorStore();
  await pipelineFor(createMockEmbedder(), store).ingest(documents);
  return new Map(store.storedPoints(COLLECTION)!.map((point) => [point.id, point.payload]));
}

function contents(store: MockVectorStore): Map<string, unknown> {
  return new Map(store.storedPoints(COLLECTION)!.map((point) => [point.id, point.payload]));
}

describe('createIngestPipeline', () => {
  it('checks both adapters and the options at creation', () => {
    const embedder = createMockEmbedder();
    const store = createMockVectorStore();
    const wrongVersion = { ...embedder, specificationVersion: 'v2' } as unknown as MockEmbedder;
    expect(() => createIngestPipeline({ embedder: wrongVersion, vectorStore: store, collection: COLLECTION })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }) as Error,
    );
    expect(() => pipelineFor(embedder, store, { concurrency: 0 })).toThrow(
      new TypeError('Expected `concurrency` to be a positive integer, got `0` (number)'),
    );
    expect(() => pipelineFor(embedder, store, { chunking: { maxTokens: 100, overlapTokens: 80 } })).toThrow(
      new TypeError('Expected `chunking.overlapTokens` to be at most half of maxTokens (50), got `80` (number)'),
    );
    const budgeted = createMockEmbedder({ maxTokensPerBatch: 200 });
    expect(() => pipelineFor(budgeted, store, { chunking: { maxTokens: 300 } })).toThrow(
      new TypeError("Expected `chunking.maxTokens` to be at most the embedder's maxTokensPerBatch (200), got `300` (number)"),
    );
  });

  it('creates the collection and stores every chunk with its metadata under a deterministic id', async () => {
    const embedder = createMockEmbedder({ dimensions: 8 });
    const store = createMockVectorStore();
    const pipeline = pipelineFor(embedder, store, { chunking: { maxTokens: 100 } });
    const report = await pipeline.ingest([{ id: 'htn', text: '# Hypertension\n\n## Targets\n\nBelow 130/80.' }]);

    expect(store.calls[0]).toMatchObject({
      method: 'ensureCollection',
      input: { collection: COLLECTION, settings: { dimensions: 8, distance: 'cosine', payloadIndexes: ['source'] } },
    });
    const [point] = store.storedPoints(COLLECTION)!;
    expect(point?.payload).toEqual({
      source: 'htn',
      title: 'Hypertension',
      section: 'Hypertension > Targets',
      chunkIndex: 0,
      contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
      format: 'markdown',
      embeddingModel: 'mock/mock-embedding',
      text: 'Hypertension > Targets\n\nBelow 130/80.',
    });
    expect(Array.from(point!.vector)).toEqual(Array.from(hashEmbedding('Hypertension > Targets\n\nBelow 130/80.', 8)));
    expect(report).toMatchObject({
      collection: COLLECTION,
      dryRun: false,
      totals: { documents: 1, ingested: 1, unchanged: 0, failed: 0, replaced: 0, chunks: 1, embedded: 1, skipped: 0, deleted: 0 },
      documents: [{ source: 'htn', status: 'ingested', format: 'markdown', title: 'Hypertension', chunks: 1, embedded: 1, replaced: false }],
      trace: undefined,
    });
    expect(embedder.calls[0]?.input.kind).toBe('document');
  });

  it('stores a passage repeated within a document once per occurrence', async () => {
    const store = createMockVectorStore();
    const text = '# T\n\n## A\n\nSee the table.\n\n## A\n\nSee the table.';
    const report = await pipelineFor(createMockEmbedder(), store).ingest([{ id: 'dup', text }]);
    expect(report.totals.chunks).toBe(2);
    expect(store.storedPoints(COLLECTION)).toHaveLength(2);
  });
});

describe('batching', () => {
  it('never exceeds maxBatchSize or the token budget (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 120 }), { maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.option(fc.integer({ min: 120, max: 2_000 }), { nil: undefined }),
        (tokens, maxBatchSize, maxTokensPerBatch) => {
          const items = tokens.map((count, index) => ({ index, tokens: count }));
          const batches = planEmbeddingBatches(items, { maxBatchSize, maxTokensPerBatch });
          expect(batches.flat()).toEqual(items);
          for (const [index, batch] of batches.entries()) {
            expect(batch.length).toBeGreaterThan(0);
            expect(batch.length).toBeLessThanOrEqual(maxBatchSize);
            const sum = batch.reduce((total, item) => total + item.tokens, 0);
            if (maxTokensPerBatch !== undefined) expect(sum).toBeLessThanOrEqual(maxTokensPerBatch);
            // Greedy: a batch was sealed only because the next item did not fit.
            const next = batches[index + 1]?.[0];
            if (next !== undefined) {
              const full = batch.length === maxBatchSize || (maxTokensPerBatch !== undefined && sum + next.tokens > maxTokensPerBatch);
              expect(full).toBe(true);
            }
          }
        },
      ),
    );
  });

  it('sends the embedder batches within its maxBatchSize and maxTokensPerBatch', async () => {
    // The mock rejects an over-size batch with INVALID_INPUT, which would fail the run.
    const embedder = createMockEmbedder({ maxBatchSize: 7, maxTokensPerBatch: 250, latency: { fixedMs: 2 } });
    const store = createMockVectorStore();
    const documents = Array.from({ length: 6 }, (_, index) => ({ id: `d${index}`, text: `# D${index}\n\n${sentences(30, `D${index}`)}` }));
    const report = await pipelineFor(embedder, store, { chunking: { maxTokens: 50, overlapTokens: 10 } }).ingest(documents);
    expect(report.totals.embedded).toBeGreaterThan(20);
    expect(embedder.calls.every((call) => call.outcome === 'resolved')).toBe(true);
    for (const call of embedder.calls) {
      expect(call.input.texts.length).toBeLessThanOrEqual(7);
      expect(tokensOf(call.input.texts)).toBeLessThanOrEqual(250);
    }
    // Batches are filled across documents, not one call per chunk.
    expect(embedder.calls.length).toBeLessThan(report.totals.embedded / 3);
  });

  it('keeps `concurrency` batches in flight in a rolling window: a slow batch holds up no other', async () => {
    const started: number[] = [];
    const embedder = createMockEmbedder({
      maxBatchSize: 2,
      embed: async (texts) => {
        started.push(performance.now());
        await sleep(texts.some((text) => text.includes('SLOW')) ? 500 : 10);
        return texts.map((text) => hashEmbedding(text, 16));
      },
    });
    const store = createMockVectorStore();
    const documents = [{ id: 'slow', text: 'SLOW chunk.' }, ...Array.from({ length: 19 }, (_, index) => ({ id: `fast${index}`, text: `Fast chunk ${index}.` }))];
    const begun = performance.now();
    await pipelineFor(embedder, store, { concurrency: 4 }).ingest(documents);
    const elapsed = performance.now() - begun;

    const slow = embedder.calls.find((call) => call.input.texts.some((text) => text.includes('SLOW')))!;
    const others = embedder.calls.filter((call) => call !== slow);
    expect(others.length).toBe(9);
    // Every other batch (and its upsert) finished while the slow one was still embedding.
    for (const call of others) expect(call.endedAt!).toBeLessThan(slow.endedAt!);
    const upserts = store.calls.filter((call) => call.method === 'upsert');
    const slowUpsert = upserts.find((call) => call.method === 'upsert' && call.input.points.some((point) => String(point.payload.text).includes('SLOW')))!;
    for (const call of upserts) if (call !== slowUpsert) expect(call.endedAt!).toBeLessThan(slow.endedAt!);
    expect(embedder.maxPending).toBe(4);
    // Waves of 4 would take >= 500 + 2 * 10 ms after the slow wave; the rolling window ends with the slow batch.
    expect(elapsed).toBeLessThan(650);
    expect(store.storedPoints(COLLECTION)).toHaveLength(20);
  });

  it('serialises batches when the embedder does not support parallel calls', async () => {
    const embedder = createMockEmbedder({ maxBatchSize: 2, supportsParallelCalls: false, latency: { fixedMs: 5 } });
    const store = createMockVectorStore();
    await pipelineFor(embedder, store, { concurrency: 4 }).ingest(Array.from({ length: 8 }, (_, index) => ({ id: `d${index}`, text: `Chunk ${index}.` })));
    expect(embedder.maxPending).toBe(1);
    expect(store.storedPoints(COLLECTION)).toHaveLength(8);
  });

  it('pipelines upserts with embedding, in upsertBatchSize groups', async () => {
    const embedder = createMockEmbedder({ maxBatchSize: 10, latency: { fixedMs: 40 } });
    const store = createMockVectorStore({ latency: { fixedMs: 30 } });
    const documents = Array.from({ length: 40 }, (_, index) => ({ id: `d${index}`, text: `Chunk number ${index}.` }));
    // All documents load at once (one scroll round trip), so batches fill to 10; a wide store pool
    // so upserts never queue behind those scrolls.
    const storePool = new ConcurrencyPool({ name: 'test-store', concurrency: 64 });
    await pipelineFor(embedder, store, { concurrency: 1, upsertBatchSize: 4, loadConcurrency: 40, pools: { vectorStore: storePool } }).ingest(documents);
    const upserts = store.calls.filter((call) => call.method === 'upsert');
    // Each embedded batch is written in groups of at most 4 (a batch of 10: 4 + 4 + 2).
    const groupSizes = upserts.map((call) => (call.method === 'upsert' ? call.input.points.length : 0));
    const expectedGroups = embedder.calls.flatMap(({ input: { texts } }) =>
      Array.from({ length: Math.ceil(texts.length / 4) }, (_, index) => Math.min(4, texts.length - index * 4)),
    );
    expect(groupSizes.sort()).toEqual(expectedGroups.sort());
    expect(embedder.calls[0]!.input.texts).toHaveLength(10);
    // The first batch's upserts ran while the second batch embedded.
    const secondEmbed = embedder.calls[1]!;
    expect(upserts[0]!.startedAt).toBeLessThan(secondEmbed.endedAt!);
    expect(upserts[0]!.startedAt).toBeGreaterThanOrEqual(embedder.calls[0]!.endedAt!);
  });
});

describe('re-runs', () => {
  it('skips unchanged chunks, replaces changed ones and deletes stale ones', async () => {
    const embedder = createMockEmbedder();
    const store = createMockVectorStore();
    const pipeline = pipelineFor(embedder, store);
    const first = await pipeline.ingest(version1);
    // One chunk per paragraph: 3 documents x 3 sections x 2 paragraphs.
    expect(first.totals).toMatchObject({ documents: 3, ingested: 3, chunks: 18, embedded: 18, skipped: 0, deleted: 0 });

    embedder.reset();
    const second = await pipeline.ingest(version2);
    const byId = Object.fromEntries(second.documents.map((document) => [document.source, document]));
    expect(byId.a).toMatchObject({ status: 'unchanged', chunks: 6, embedded: 0, skipped: 6, deleted: 0, replaced: false });
    expect(byId.b).toMatchObject({ status: 'ingested', chunks: 6, embedded: 1, skipped: 5, deleted: 1, replaced: true });
    expect(byId.c).toMatchObject({ status: 'ingested', chunks: 4, embedded: 0, skipped: 4, deleted: 2, replaced: true });
    expect(second.totals).toMatchObject({ documents: 3, ingested: 2, unchanged: 1, replaced: 2, chunks: 16, embedded: 1, skipped: 15, deleted: 3 });
    // Only the revised paragraph was embedded.
    expect(embedder.calls.flatMap((call) => call.input.texts)).toEqual([expect.stringContaining('Revised paragraph 1 of section 2')]);
    expect(contents(store)).toEqual(await reference(version2));

    const third = await pipeline.ingest(version2);
    expect(third.totals).toMatchObject({ unchanged: 3, embedded: 0, skipped: 16, deleted: 0 });
  });

  it('re-embeds everything when the embedding model changes', async () => {
    const store = createMockVectorStore();
    await pipelineFor(createMockEmbedder(), store).ingest(version1);
    const report = await pipelineFor(createMockEmbedder({ model: 'mock-embedding-2' }), store).ingest(version1);
    expect(report.totals).toMatchObject({ embedded: 18, skipped: 0, deleted: 0 });
    expect(store.storedPoints(COLLECTION)!.every((point) => point.payload.embeddingModel === 'mock/mock-embedding-2')).toBe(true);
  });

  it('converges on exactly the right points when a run is killed at any call and run again', async () => {
    const expected = await reference(version2);
    // Count the store calls of an uninterrupted update, then kill one run at each of them.
    const probe = createMockVectorStore();
    await pipelineFor(createMockEmbedder(), probe).ingest(version1);
    probe.reset();
    await pipelineFor(createMockEmbedder(), probe).ingest(version2);
    const calls = probe.calls.length;
    expect(calls).toBeGreaterThan(5);

    for (let killAt = 0; killAt < calls; killAt++) {
      const store = createMockVectorStore();
      const embedder = createMockEmbedder({ maxBatchSize: 2 });
      await pipelineFor(embedder, store).ingest(version1);
      const controller = new AbortController();
      let seen = 0;
      const killing = createMockVectorStore({
        collections: { [COLLECTION]: { dimensions: 16, points: store.storedPoints(COLLECTION)! } },
        faults: () => {
          if (seen++ === killAt) controller.abort();
          return undefined;
        },
      });
      const error = await rejectionOf(pipelineFor(embedder, killing).ingest(version2, { signal: controller.signal }));
      expect(error.code).toBe('ABORTED');
      expect(killing.pending).toBe(0);

      const report = await pipelineFor(embedder, killing).ingest(version2);
      expect(report.totals.failed).toBe(0);
      expect(contents(killing)).toEqual(expected);
    }
  });

  it('converges when the run dies between the upserts and the delete of stale points', async () => {
    // Only `b` changes, so its delete is the only one.
    const onlyB = [version1[0]!, version2[1]!, version1[2]!];
    const store = createMockVectorStore();
    await pipelineFor(createMockEmbedder(), store).ingest(version1);
    const failing = createMockVectorStore({
      collections: { [COLLECTION]: { dimensions: 16, points: store.storedPoints(COLLECTION)! } },
      faults: (call) => (call.method === 'delete' ? new AidocError('INTERNAL', 'process killed before delete') : undefined),
    });
    const error = await rejectionOf(pipelineFor(createMockEmbedder(), failing).ingest(onlyB));
    expect(error.code).toBe('INTERNAL');
    // The new version of `b` is stored alongside its stale point: no duplicate ids, one extra point.
    expect(pointsBySource(failing, COLLECTION).get('b')).toHaveLength(7);

    const healthy = createMockVectorStore({ collections: { [COLLECTION]: { dimensions: 16, points: failing.storedPoints(COLLECTION)! } } });
    const report = await pipelineFor(createMockEmbedder(), healthy).ingest(onlyB);
    expect(report.totals).toMatchObject({ embedded: 0, skipped: 18, deleted: 1 });
    expect(contents(healthy)).toEqual(await reference(onlyB));
  });

  it('dry-runs: reports what would change and writes nothing', async () => {
    const store = createMockVectorStore();
    await pipelineFor(createMockEmbedder(), store).ingest(version1);
    const before = contents(store);
    store.reset();
    const embedder = createMockEmbedder();
    const report = await pipelineFor(embedder, store).ingest(version2, { dryRun: true });
    expect(report).toMatchObject({ dryRun: true, totals: { ingested: 2, unchanged: 1, embedded: 1, skipped: 15, deleted: 3 } });
    expect(embedder.calls).toHaveLength(0);
    expect(store.calls.map((call) => call.method).filter((method) => method !== 'scroll')).toEqual(['info']);
    expect(contents(store)).toEqual(before);

    // Into a collection that does not exist yet: everything would be new, nothing is created.
    const empty = createMockVectorStore();
    const fresh = await pipelineFor(createMockEmbedder(), empty).ingest(version1, { dryRun: true });
    expect(fresh.totals).toMatchObject({ embedded: 18, skipped: 0 });
    expect(empty.storedPoints(COLLECTION)).toBeUndefined();
  });
});

describe('retries and failures', () => {
  it('rides out a 429 storm with Retry-After: every chunk stored exactly once, attempts bounded', async () => {
    const retryAfterMs = 60;
    const embedder = createMockEmbedder({
      maxBatchSize: 4,
      latency: { fixedMs: 5 },
      faults: { rateLimitRate: 0, retryAfterMs },
    });
    // The first 8 calls that reach the upstream are refused: two full waves of 429s.
    embedder.failNext('rate-limited', 8);
    // Every upsert is refused once (no Retry-After: plain backoff), then accepted.
    const refused = new Set<string>();
    const store = createMockVectorStore({
      faults: (call) => {
        if (call.method !== 'upsert' || call.input === undefined || !('points' in call.input)) return undefined;
        const first = call.input.points[0]!.id;
        if (refused.has(first)) return undefined;
        refused.add(first);
        return 'rate-limited';
      },
    });
    const documents = Array.from({ length: 24 }, (_, index) => ({ id: `d${index}`, text: `Chunk ${index} text.` }));
    const report = await pipelineFor(embedder, store, { retry: { attempts: 4, baseDelayMs: 5 } }).ingest(documents);

    expect(report.totals).toMatchObject({ documents: 24, embedded: 24, failed: 0 });
    const stored = store.storedPoints(COLLECTION)!;
    expect(stored).toHaveLength(24);
    const written = store.calls.filter((call) => call.method === 'upsert' && call.outcome === 'resolved');
    const writtenIds = written.flatMap((call) => (call.method === 'upsert' ? call.input.points.map((point) => point.id) : []));
    expect(writtenIds.sort()).toEqual(stored.map((point) => point.id).sort());

    const rejected = embedder.calls.filter((call) => call.outcome === 'rejected');
    expect(rejected).toHaveLength(8);
    expect(embedder.calls).toHaveLength(8 + 6);
    // The pool paused on Retry-After: no call started before the first refusal's pause was over.
    const firstRefusal = Math.min(...rejected.map((call) => call.endedAt!));
    const later = embedder.calls.filter((call) => call.startedAt > firstRefusal);
    for (const call of later) expect(call.startedAt).toBeGreaterThanOrEqual(firstRefusal + retryAfterMs - 2);
  });

  it('cuts a hung embed call off at timeoutMs and retries it', async () => {
    const embedder = createMockEmbedder({ maxBatchSize: 4 });
    embedder.failNext('hang');
    const store = createMockVectorStore();
    const documents = Array.from({ length: 8 }, (_, index) => ({ id: `d${index}`, text: `Chunk ${index}.` }));
    const started = performance.now();
    const report = await pipelineFor(embedder, store, { timeoutMs: 50, retry: { attempts: 3, baseDelayMs: 1 } }).ingest(documents);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(report.totals.embedded).toBe(8);
    expect(embedder.calls.filter((call) => call.outcome === 'rejected').map((call) => call.error?.code)).toEqual(['TIMEOUT']);
    expect(embedder.calls).toHaveLength(3);
    expect(embedder.pending).toBe(0);
  });

  it('fails the run with the adapter error once retries run out, saying what was done', async () => {
    const embedder = createMockEmbedder({ maxBatchSize: 2, faults: (call) => (call.index >= 2 ? 'unavailable' : undefined) });
    const store = createMockVectorStore();
    const documents = Array.from({ length: 10 }, (_, index) => ({ id: `d${index}`, text: `Chunk ${index}.` }));
    const error = await rejectionOf(pipelineFor(embedder, store, { concurrency: 1, retry: { attempts: 2, baseDelayMs: 1 } }).ingest(documents));
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    const stored = store.storedPoints(COLLECTION)!.length;
    expect(error.message).toMatch(new RegExp(`^Ingest failed: .* \\(${stored} chunks stored, ${stored} of 10 documents done\\)$`));
    const report = error.details?.report as IngestReport;
    expect(report.totals).toMatchObject({ embedded: stored, ingested: stored, failed: 10 - stored });
    expect(report.documents.find((document) => document.status === 'failed')).toMatchObject({ errorCode: 'UPSTREAM_UNAVAILABLE' });
    expect(embedder.calls).toHaveLength(4);
  });

  it('aborts every call in flight and rejects ABORTED with what was done', async () => {
    const embedder = createMockEmbedder({ maxBatchSize: 3, latency: { fixedMs: 80 } });
    const store = createMockVectorStore({ latency: { fixedMs: 5 } });
    const controller = new AbortController();
    let abortCalledAt = 0;
    const { events, listener } = progressLog();
    const documents = Array.from({ length: 30 }, (_, index) => ({ id: `d${index}`, text: `Chunk ${index}.` }));
    const running = pipelineFor(embedder, store, { concurrency: 2 }).ingest(documents, {
      signal: controller.signal,
      onProgress: (progress) => {
        listener(progress);
        if (progress.upserted >= 3 && !controller.signal.aborted) {
          abortCalledAt = performance.now();
          controller.abort();
        }
      },
    });
    const error = await rejectionOf(running);
    // Prompt: the 80 ms embedding calls in flight did not run to their end.
    expect(performance.now() - abortCalledAt).toBeLessThan(40);
    expect(error.code).toBe('ABORTED');
    expect(error.message).toMatch(/^Ingest aborted: /);
    // Nothing left running: every call in flight was aborted and has settled.
    expect(embedder.pending).toBe(0);
    expect(store.pending).toBe(0);
    expect(embedder.calls.some((call) => call.error?.code === 'ABORTED')).toBe(true);

    const stored = store.storedPoints(COLLECTION)!.length;
    const report = error.details?.report as IngestReport;
    const progress = error.details?.progress as IngestProgress;
    expect(report.totals.embedded).toBe(stored);
    expect(progress).toMatchObject({ final: true, upserted: stored });
    expect(events.at(-1)).toEqual(progress);
    expect(stored).toBeGreaterThanOrEqual(3);
    expect(stored).toBeLessThan(30);

    const callsAfter = embedder.calls.length + store.calls.length;
    await sleep(150);
    expect(embedder.calls.length + store.calls.length).toBe(callsAfter);
  });

  it('rejects at once when the signal already fired, calling nothing', async () => {
    const embedder = createMockEmbedder();
    const store = createMockVectorStore();
    const error = await rejectionOf(pipelineFor(embedder, store).ingest(version1, { signal: AbortSignal.abort() }));
    expect(error.code).toBe('ABORTED');
    expect(store.calls).toHaveLength(0);
  });

  it('refuses inline documents sharing an id before any I/O', async () => {
    const store = createMockVectorStore();
    const error = await rejectionOf(pipelineFor(createMockEmbedder(), store).ingest([{ id: 'x', text: 'a' }, { id: 'x', text: 'b' }]));
    expect(error.code).toBe('INVALID_INPUT');
    expect(store.calls).toHaveLength(0);
  });
});

describe('progress and tracing', () => {
  it('reports progress at most every ~100 ms, then a final event', async () => {
    const embedder = createMockEmbedder({ maxBatchSize: 2, latency: { fixedMs: 40 } });
    const store = createMockVectorStore({ latency: { fixedMs: 2 } });
    const { events, listener } = progressLog();
    const documents = Array.from({ length: 40 }, (_, index) => ({ id: `d${index}`, text: `Chunk ${index}.` }));
    const report = await pipelineFor(embedder, store, { concurrency: 2 }).ingest(documents, { onProgress: listener });

    expect(events.length).toBeGreaterThan(3);
    const final = events.at(-1)!;
    expect(final).toMatchObject({ final: true, documentsDone: 40, documentsTotal: 40, chunks: 40, embedded: 40, upserted: 40, etaMs: 0 });
    expect(events.slice(0, -1).every((event) => !event.final)).toBe(true);
    for (let index = 1; index < events.length - 1; index++) {
      expect(events[index]!.elapsedMs - events[index - 1]!.elapsedMs).toBeGreaterThanOrEqual(95);
      expect(events[index]!.upserted).toBeGreaterThanOrEqual(events[index - 1]!.upserted);
    }
    const middle = events.filter((event) => !event.final && event.upserted > 0);
    expect(middle.length).toBeGreaterThan(0);
    for (const event of middle) {
      expect(event.chunksPerSecond).toBeGreaterThan(0);
      expect(event.etaMs).toBeGreaterThan(0);
    }
    expect(report.chunksPerSecond).toBeGreaterThan(0);
    expect(report.elapsedMs).toBeGreaterThan(0);
  });

  it('fails the run when the progress listener throws', async () => {
    const bug = new Error('listener bug');
    const error = await rejectionOf(
      pipelineFor(createMockEmbedder(), createMockVectorStore()).ingest(version1, {
        onProgress: () => {
          throw bug;
        },
      }),
    );
    expect(error.code).toBe('INTERNAL');
    expect((error.cause as AidocError).cause).toBe(bug);
  });

  it('records its spans into the current trace and returns it in the report', async () => {
    const { value: report, trace } = await runTraced('ingest-job', () =>
      pipelineFor(createMockEmbedder({ maxBatchSize: 4 }), createMockVectorStore()).ingest(version1),
    );
    expect(report.trace).toBe(trace);
    const names = new Set(trace.spans.map((span) => span.name));
    for (const name of ['ingest', 'vectorStore.ensureCollection', 'document', 'vectorStore.scroll', 'batch', 'embedder.embed', 'vectorStore.upsert']) {
      expect(names).toContain(name);
    }
    const embed = trace.spans.find((span) => span.name === 'embedder.embed')!;
    expect(embed.kind).toBe('call');
    expect(embed.parent?.name).toBe('batch');
    expect(embed.parent?.parent?.name).toBe('ingest');
    expect(trace.spans.find((span) => span.name === 'vectorStore.upsert')?.parent?.name).toBe('ingest');
    expect(embed.attributes.texts).toBeGreaterThan(0);
    expect(embed.attributes.tokens).toBeGreaterThan(0);
  });
});
