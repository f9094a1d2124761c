// Fault injection: upstreams that never answer. A policy timeout must cut every hung call off,
// the run must reject TIMEOUT within a bound, and nothing may stay in flight afterwards.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resetPools } from '../src/executor/pool-registry.ts';
import { createBriefingPipeline, type BriefingPolicies } from '../src/pipelines/briefing-pipeline.ts';
import { createIngestPipeline } from '../src/pipelines/ingest/ingest-pipeline.ts';
import type { IngestReport } from '../src/pipelines/ingest/ingest-report.ts';
import {
  createGuidelineVectorStore,
  createMockChatModel,
  createMockEmbedder,
  createMockPatientRepository,
  createMockVectorStore,
  examplePatientRecord,
  scriptedBriefingTurns,
  type MockChatModel,
  type MockEmbedder,
} from '../src/testing/index.ts';
import { rejectionOf } from '../src/testing/index.ts';

const DIMENSIONS = 16;
const TIMEOUT_MS = 60;
/** Generous: a few attempts of TIMEOUT_MS plus backoff, on a loaded 2-core machine. */
const REJECTS_WITHIN_MS = 2_000;

afterEach(() => {
  resetPools();
});

function briefingSetup(adapters: { model?: MockChatModel; embedder?: MockEmbedder }, policies: BriefingPolicies) {
  const patients = createMockPatientRepository({ records: [examplePatientRecord('1')] });
  const vectorStore = createGuidelineVectorStore({ dimensions: DIMENSIONS });
  const embedder = adapters.embedder ?? createMockEmbedder({ dimensions: DIMENSIONS });
  const model = adapters.model ?? createMockChatModel({ turns: scriptedBriefingTurns() });
  const pipeline = createBriefingPipeline({ patients, embedder, vectorStore, model, collection: 'guidelines', policies });
  const pending = () => patients.pending + vectorStore.pending + embedder.pending + model.pending;
  return { pipeline, patients, vectorStore, embedder, model, pending };
}

describe('fault injection: hanging upstreams', () => {
  it('a briefing whose model hangs rejects TIMEOUT after its attempts, leaving nothing in flight', async () => {
    const model = createMockChatModel({ turns: scriptedBriefingTurns(), faults: () => 'hang' });
    const setup = briefingSetup({ model }, { model: { pool: 'model', timeoutMs: TIMEOUT_MS, retry: { attempts: 2, baseDelayMs: 1 } } });

    const startedAt = performance.now();
    const error = await rejectionOf(setup.pipeline.brief('1'));
    const elapsedMs = performance.now() - startedAt;

    expect(error.code).toBe('TIMEOUT');
    expect(elapsedMs).toBeGreaterThanOrEqual(2 * TIMEOUT_MS - 5);
    expect(elapsedMs).toBeLessThan(REJECTS_WITHIN_MS);
    // Both attempts reached the model and were cut off (aborted through their signal), not abandoned.
    expect(model.calls).toHaveLength(2);
    await vi.waitFor(() => expect(setup.pending()).toBe(0), { timeout: 1_000, interval: 5 });
    expect(model.calls.every((call) => call.outcome === 'rejected' && call.fault === 'hang')).toBe(true);
    expect(model.calls.every((call) => call.durationMs! >= TIMEOUT_MS - 5 && call.durationMs! < REJECTS_WITHIN_MS)).toBe(true);
  });

  it('a briefing whose query embedder hangs rejects TIMEOUT at the deadline, leaving nothing in flight', async () => {
    const embedder = createMockEmbedder({ dimensions: DIMENSIONS, faults: () => 'hang' });
    const setup = briefingSetup({ embedder }, { embedder: { pool: 'embedder', timeoutMs: TIMEOUT_MS, retry: { attempts: 2, baseDelayMs: 1 } } });

    const startedAt = performance.now();
    const error = await rejectionOf(setup.pipeline.brief('1'));
    const elapsedMs = performance.now() - startedAt;

    // The search's embed call timed out on both attempts and failed the briefing with TIMEOUT;
    // the model was not asked again after the first turn.
    expect(error.code).toBe('TIMEOUT');
    expect(elapsedMs).toBeGreaterThanOrEqual(2 * TIMEOUT_MS - 5);
    expect(elapsedMs).toBeLessThan(REJECTS_WITHIN_MS);
    expect(setup.model.calls).toHaveLength(1);
    expect(embedder.calls).toHaveLength(2);
    await vi.waitFor(() => expect(setup.pending()).toBe(0), { timeout: 1_000, interval: 5 });
    expect(embedder.calls.map((call) => [call.outcome, call.error?.code])).toEqual([
      ['rejected', 'TIMEOUT'],
      ['rejected', 'TIMEOUT'],
    ]);
  });

  it('an ingest whose vector store hangs on upsert rejects TIMEOUT with a report, leaving nothing in flight', async () => {
    const embedder = createMockEmbedder({ maxBatchSize: 4 });
    const store = createMockVectorStore({ faults: (call) => (call.method === 'upsert' ? 'hang' : undefined) });
    const pipeline = createIngestPipeline({
      embedder,
      vectorStore: store,
      collection: 'guidelines',
      timeoutMs: TIMEOUT_MS,
      retry: { attempts: 3, baseDelayMs: 1 },
    });
    const documents = Array.from({ length: 16 }, (_, index) => ({ id: `d${index}`, text: `Chunk ${index} of a guideline.` }));

    const startedAt = performance.now();
    const error = await rejectionOf(pipeline.ingest(documents));
    const elapsedMs = performance.now() - startedAt;

    expect(error.code).toBe('TIMEOUT');
    expect(elapsedMs).toBeGreaterThanOrEqual(3 * TIMEOUT_MS - 5);
    expect(elapsedMs).toBeLessThan(REJECTS_WITHIN_MS);
    const report = error.details?.report as IngestReport;
    expect(report.totals.failed).toBeGreaterThan(0);
    expect(report.documents.filter((document) => document.status === 'failed').every((document) => document.errorCode !== undefined)).toBe(true);
    expect(store.storedPoints('guidelines') ?? []).toHaveLength(0);
    const upserts = store.calls.filter((call) => call.method === 'upsert');
    expect(upserts.length).toBeGreaterThanOrEqual(3);
    // Once ingest has rejected, every upsert has settled: nothing left hanging.
    expect(store.pending + embedder.pending).toBe(0);
    expect(upserts.every((call) => call.outcome === 'rejected')).toBe(true);
  });
});
