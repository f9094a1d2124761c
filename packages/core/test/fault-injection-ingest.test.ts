// Fault injection: a storm of embedding 429s (with Retry-After) during ingestion, against the
// process-wide pool. The run must complete, store every chunk exactly once, stay within its retry
// budget, and pause the shared pool instead of letting every caller retry on its own.
import { afterEach, describe, expect, it } from 'vitest';
import { definePools, getPool, resetPools } from '../src/executor/pool-registry.ts';
import { createIngestPipeline } from '../src/pipelines/ingest/ingest-pipeline.ts';
import type { InlineDocument } from '../src/pipelines/ingest/ingest-sources.ts';
import { createMockEmbedder, createMockVectorStore, seededRandom } from '../src/testing/index.ts';
import { guideline } from './fixtures/ingest/ingest-helpers.ts';

const COLLECTION = 'guidelines';
const RETRY_AFTER_MS = 40;
const BATCH_SIZE = 4;
const ATTEMPTS = 8;
/** performance.now() and timer granularity: a timer may fire up to ~1 ms before its nominal time. */
const TIMER_SLACK_MS = 2;

afterEach(() => {
  resetPools();
});

const documents: InlineDocument[] = Array.from({ length: 30 }, (_, index) => ({
  id: `guideline-${index}`,
  text: guideline({ title: `Condition ${index}`, sections: 2, paragraphs: 2 }),
}));

describe('fault injection: embedding 429 storm during ingestion', () => {
  it('completes with every chunk stored exactly once, bounded attempts, and the shared pool paused on Retry-After', async () => {
    definePools({ embedder: { concurrency: 4 }, vectorStore: { concurrency: 8 } });
    const embedder = createMockEmbedder({
      maxBatchSize: BATCH_SIZE,
      latency: { fixedMs: 3, perItemMs: 1 },
      faults: { rateLimitRate: 0.4, retryAfterMs: RETRY_AFTER_MS, random: seededRandom(1_729) },
    });
    const store = createMockVectorStore({ latency: { fixedMs: 2 } });
    const pipeline = createIngestPipeline({
      embedder,
      vectorStore: store,
      collection: COLLECTION,
      chunking: { maxTokens: 30, overlapTokens: 0 },
      concurrency: 4,
      pools: { embedder: 'embedder', vectorStore: 'vectorStore' },
      retry: { attempts: ATTEMPTS, baseDelayMs: 5 },
    });

    const report = await pipeline.ingest(documents);

    // The run completed and every chunk was written exactly once.
    const chunks = report.totals.chunks;
    expect(chunks).toBeGreaterThanOrEqual(documents.length * 4);
    expect(report.totals).toMatchObject({ documents: documents.length, failed: 0, embedded: chunks });
    const stored = store.storedPoints(COLLECTION)!;
    expect(stored).toHaveLength(chunks);
    const writtenIds = store.calls.flatMap((call) => (call.method === 'upsert' && call.outcome === 'resolved' ? call.input.points.map((point) => point.id) : []));
    expect(writtenIds).toHaveLength(chunks);
    expect(new Set(writtenIds).size).toBe(chunks);
    expect(new Set(stored.map((point) => point.id))).toEqual(new Set(writtenIds));

    // Each batch was embedded successfully once; the storm really happened; attempts are bounded.
    const resolved = embedder.calls.filter((call) => call.outcome === 'resolved');
    const refused = embedder.calls.filter((call) => call.outcome === 'rejected');
    expect(resolved.reduce((sum, call) => sum + call.input.texts.length, 0)).toBe(chunks);
    const batches = resolved.length;
    expect(batches).toBeGreaterThanOrEqual(Math.ceil(chunks / BATCH_SIZE));
    expect(refused.length).toBeGreaterThanOrEqual(Math.floor(batches * 0.2));
    expect(refused.every((call) => call.error?.code === 'RATE_LIMITED' && call.error.retryAfterMs === RETRY_AFTER_MS)).toBe(true);
    expect(embedder.calls.length).toBeLessThanOrEqual(batches * ATTEMPTS);
    expect(embedder.calls.length).toBe(batches + refused.length);
    expect(embedder.maxPending).toBeLessThanOrEqual(4);
    expect(embedder.pending + store.pending).toBe(0);

    // The shared pool paused: after each 429, no embed call (anyone's) started until its
    // Retry-After had passed. Callers retrying on their own would start calls inside these windows.
    const violations: string[] = [];
    for (const refusal of refused) {
      const windowStart = refusal.endedAt! + 1;
      const windowEnd = refusal.endedAt! + RETRY_AFTER_MS - TIMER_SLACK_MS;
      for (const call of embedder.calls) {
        if (call.startedAt > windowStart && call.startedAt < windowEnd) {
          violations.push(`call ${call.index} started ${(call.startedAt - refusal.endedAt!).toFixed(1)} ms after 429 #${refusal.index}`);
        }
      }
    }
    expect(violations).toEqual([]);
    // Retry-After honoured by each caller too: every refused batch was retried, no sooner than
    // Retry-After after its refusal.
    for (const refusal of refused) {
      const retried = embedder.calls.find((call) => call.index > refusal.index && call.input.texts[0] === refusal.input.texts[0]);
      expect(retried, `429 #${refusal.index} was never retried`).toBeDefined();
      expect(retried!.startedAt - refusal.endedAt!).toBeGreaterThanOrEqual(RETRY_AFTER_MS - TIMER_SLACK_MS);
    }
    expect(getPool('embedder').pausedUntil).toBeUndefined();
  });
});
