// A tool turn: the model asks for two guideline searches at once; each search embeds its query
// (150 ms simulated) and then searches the vector store (30 ms). Sequential code takes ~360 ms,
// gather ~180 ms with 4 upstream round trips. Ours (the briefing pipeline's agent loop) must stay
// within 1.05x the critical path (180 ms) and use 2 round trips: one batched embedding call and
// one queryBatch.
import { performance } from 'node:perf_hooks';
import { createBriefingPipeline } from '@aidoc/core';
import {
  createGuidelineVectorStore,
  createMockChatModel,
  createMockEmbedder,
  createMockPatientRepository,
  examplePatientRecord,
  scriptedBriefingTurns,
} from '@aidoc/core/testing';
import type { Benchmark } from './lib/bench-result.ts';
import { median, round } from './lib/measure.ts';

const EMBED_MS = 150;
const SEARCH_MS = 30;
const DIMENSIONS = 64;
const QUERIES = ['metformin dose with reduced eGFR', 'HbA1c target in older adults'];

function upstreams() {
  const embedder = createMockEmbedder({ dimensions: DIMENSIONS, latency: { fixedMs: EMBED_MS } });
  const vectorStore = createGuidelineVectorStore({ dimensions: DIMENSIONS, latency: { fixedMs: SEARCH_MS } });
  return { embedder, vectorStore };
}

async function ours(): Promise<{ ms: number; roundTrips: number }> {
  const { embedder, vectorStore } = upstreams();
  const pipeline = createBriefingPipeline({
    patients: createMockPatientRepository({ records: [examplePatientRecord('1')] }),
    embedder,
    vectorStore,
    model: createMockChatModel({ turns: scriptedBriefingTurns(QUERIES) }),
    collection: 'guidelines',
  });
  const { trace } = await pipeline.brief('1');
  // The turn: from the first search starting to the last one finishing (the prefetch and the
  // model turns around it have their own simulated latencies and are not part of this figure).
  const tools = trace.spans.filter((span) => span.name === 'tool: search_guidelines');
  const ms = Math.max(...tools.map((span) => span.end!)) - Math.min(...tools.map((span) => span.start));
  const searchCalls = vectorStore.calls.filter((call) => call.method === 'query' || call.method === 'queryBatch').length;
  return { ms, roundTrips: embedder.calls.length + searchCalls };
}

async function searchOne(query: string, upstream: ReturnType<typeof upstreams>): Promise<unknown> {
  const [vector] = await upstream.embedder.embed([query], { kind: 'query' });
  return upstream.vectorStore.query('guidelines', { vector: vector!, limit: 1 });
}

async function sequential(): Promise<number> {
  const upstream = upstreams();
  const start = performance.now();
  for (const query of QUERIES) await searchOne(query, upstream);
  return performance.now() - start;
}

async function gathered(): Promise<number> {
  const upstream = upstreams();
  const start = performance.now();
  await Promise.all(QUERIES.map((query) => searchOne(query, upstream)));
  return performance.now() - start;
}

export const briefingTurn: Benchmark = {
  name: 'tool turn latency',
  async run(scale) {
    const runs = scale === 'full' ? 15 : 5;
    const oursMs: number[] = [];
    const sequentialMs: number[] = [];
    const gatherMs: number[] = [];
    let roundTrips = 0;
    await ours();
    for (let index = 0; index < runs; index++) {
      const result = await ours();
      oursMs.push(result.ms);
      roundTrips = Math.max(roundTrips, result.roundTrips);
      sequentialMs.push(await sequential());
      gatherMs.push(await gathered());
    }
    const criticalPathMs = EMBED_MS + SEARCH_MS;
    const details = {
      oursMedianMs: round(median(oursMs), 1),
      sequentialMedianMs: round(median(sequentialMs), 1),
      gatherMedianMs: round(median(gatherMs), 1),
      criticalPathMs,
      gatherRoundTrips: 2 * QUERIES.length,
    };
    return [
      { name: 'turn with 2 searches (embed 150 ms, search 30 ms)', metric: 'turn wall / critical path', value: round(median(oursMs) / criticalPathMs, 3), target: 1.05, unit: 'x', details },
      { name: 'turn with 2 searches: upstream round trips', metric: 'embed + search calls', value: roundTrips, target: 2, details },
    ];
  },
};
