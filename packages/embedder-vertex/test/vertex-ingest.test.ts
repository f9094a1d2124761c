// Core's ingest pipeline with this adapter: its batching (by maxBatchSize and maxTokensPerBatch,
// with core's estimateTokens) must never send the API a request over either limit.
import { createIngestPipeline } from '@aidoc/core';
import { createMockVectorStore } from '@aidoc/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { loopbackEmbedder, requestsFor } from './support/loopback-embedder.ts';
import { startVertexLoopbackServer } from '@aidoc/loopback-servers';

const server = await startVertexLoopbackServer();
afterAll(() => server.close());

/** 600 short documents: half of a few words, half of about 200 tokens, so both limits bind. */
function documents(): Array<{ id: string; text: string; format: 'text' }> {
  const words = 'metformin egfr kidney asthma inhaler potassium lisinopril retinal screening insulin warfarin allergy'.split(' ');
  return Array.from({ length: 600 }, (_, index) => {
    const length = index % 2 === 0 ? 4 : 80;
    const text = Array.from({ length }, (_word, position) => words[(index * 7 + position * 3) % words.length]).join(' ');
    return { id: `note-${index}`, text: `Note ${index}: ${text}.`, format: 'text' };
  });
}

describe('createIngestPipeline with the Vertex embedder (loopback server)', () => {
  it('ingests 600 short texts without any request over 250 instances or 20,000 estimated tokens', async () => {
    const embedder = loopbackEmbedder(server, 'ingest');
    const vectorStore = createMockVectorStore();
    const pipeline = createIngestPipeline({ embedder, vectorStore, collection: 'guidelines' });
    const report = await pipeline.ingest(documents());
    await embedder.close();

    const requests = requestsFor(server, 'ingest');
    const instances = requests.reduce((sum, request) => sum + request.instances, 0);
    expect(report.totals.embedded).toBe(instances);
    expect(instances).toBeGreaterThanOrEqual(600);
    expect(requests.every((request) => request.status === 200)).toBe(true);
    expect(Math.max(...requests.map((request) => request.instances))).toBeLessThanOrEqual(250);
    expect(Math.max(...requests.map((request) => request.tokens))).toBeLessThanOrEqual(20_000);
    // The budget, not only the count, shaped the batches: some request came close to it.
    expect(requests.some((request) => request.tokens > 15_000)).toBe(true);
    expect(vectorStore.storedPoints('guidelines')).toHaveLength(instances);
  });
});
