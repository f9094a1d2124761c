// Fault injection: the vector store goes down mid-ingest (503s outlasting the retries). The run
// must fail saying what failed, and a re-run against the same store must complete with exactly
// the right points, writing no chunk twice.
import { afterEach, describe, expect, it } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { resetPools } from '../src/executor/pool-registry.ts';
import { createIngestPipeline } from '../src/pipelines/ingest/ingest-pipeline.ts';
import type { IngestReport } from '../src/pipelines/ingest/ingest-report.ts';
import type { InlineDocument } from '../src/pipelines/ingest/ingest-sources.ts';
import { createMockEmbedder, createMockVectorStore, type MockEmbedder, type MockVectorStore } from '../src/testing/index.ts';
import { guideline, pointsBySource } from './fixtures/ingest/ingest-helpers.ts';

const COLLECTION = 'guidelines';
const ATTEMPTS = 3;
/** Upserts that succeed before the outage. */
const HEALTHY_UPSERTS = 3;

afterEach(() => {
  resetPools();
});

const documents: InlineDocument[] = Array.from({ length: 10 }, (_, index) => ({
  id: `guideline-${String(index).padStart(2, '0')}`,
  text: guideline({ title: `Condition ${index}`, sections: 2, paragraphs: 2 }),
}));

function pipelineFor(embedder: MockEmbedder, store: MockVectorStore) {
  return createIngestPipeline({
    embedder,
    vectorStore: store,
    collection: COLLECTION,
    chunking: { maxTokens: 30, overlapTokens: 0 },
    batchSize: 4,
    upsertBatchSize: 4,
    concurrency: 2,
    retry: { attempts: ATTEMPTS, baseDelayMs: 1 },
  });
}

/** Ids written by resolved upserts, in order (duplicates kept). */
function writtenIds(store: MockVectorStore): string[] {
  return store.calls.flatMap((call) => (call.method === 'upsert' && call.outcome === 'resolved' ? call.input.points.map((point) => point.id) : []));
}

describe('fault injection: the vector store fails mid-ingest', () => {
  it('fails the run with a report of what failed; a re-run completes with exactly the right points', async () => {
    // What a clean run stores.
    const referenceStore = createMockVectorStore();
    const referenceReport = await pipelineFor(createMockEmbedder(), referenceStore).ingest(documents);
    const expected = pointsBySource(referenceStore, COLLECTION);
    const chunks = referenceReport.totals.chunks;
    expect(referenceStore.storedPoints(COLLECTION)).toHaveLength(chunks);

    // The outage: after HEALTHY_UPSERTS upserts succeed, every upsert fails UPSTREAM_UNAVAILABLE
    // (far more than the retries can absorb) until it is lifted.
    let outage = true;
    let upserts = 0;
    const store = createMockVectorStore({
      faults: (call) => {
        if (call.method !== 'upsert') return undefined;
        upserts++;
        return outage && upserts > HEALTHY_UPSERTS ? 'unavailable' : undefined;
      },
    });
    const embedder = createMockEmbedder();
    const error = await pipelineFor(embedder, store)
      .ingest(documents)
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );

    if (!AidocError.isInstance(error)) throw new Error(`expected an AidocError, got ${String(error)}`);
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    const report = error.details?.report as IngestReport;
    const failed = report.documents.filter((document) => document.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(report.totals.failed).toBe(failed.length);
    expect(failed.every((document) => document.errorCode === 'UPSTREAM_UNAVAILABLE' && document.reason !== undefined)).toBe(true);
    // The report is consistent with the store: every document it calls ingested is fully stored.
    const afterFailure = pointsBySource(store, COLLECTION);
    for (const document of report.documents.filter((each) => each.status === 'ingested')) {
      expect(afterFailure.get(document.source)).toEqual(expected.get(document.source));
    }
    const partial = store.storedPoints(COLLECTION)!.length;
    expect(partial).toBe(HEALTHY_UPSERTS * 4);
    expect(report.totals.embedded).toBeLessThanOrEqual(partial);
    // No batch was tried more than ATTEMPTS times, and one used them all before the run gave up.
    const refused = store.calls.filter((call) => call.method === 'upsert' && call.outcome === 'rejected');
    expect(refused.every((call) => call.error?.code === 'UPSTREAM_UNAVAILABLE')).toBe(true);
    const triesPerBatch = new Map<string, number>();
    for (const call of refused) {
      if (call.method !== 'upsert') continue;
      const batch = call.input.points.map((point) => point.id).join(',');
      triesPerBatch.set(batch, (triesPerBatch.get(batch) ?? 0) + 1);
    }
    expect(Math.max(...triesPerBatch.values())).toBe(ATTEMPTS);
    expect(store.pending + embedder.pending).toBe(0);

    // The store recovers; the same pipeline setup runs again against the same store.
    outage = false;
    const rerun = await pipelineFor(embedder, store).ingest(documents);

    expect(rerun.totals).toMatchObject({ documents: documents.length, failed: 0, chunks, skipped: partial, embedded: chunks - partial });
    expect(pointsBySource(store, COLLECTION)).toEqual(expected);
    expect(store.storedPoints(COLLECTION)).toHaveLength(chunks);
    // No duplicates: across both runs, every chunk was written by exactly one successful upsert.
    const written = writtenIds(store);
    expect(written).toHaveLength(chunks);
    expect(new Set(written).size).toBe(chunks);
    expect(store.pending + embedder.pending).toBe(0);
  });
});
