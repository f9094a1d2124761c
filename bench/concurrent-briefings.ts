// 1,000 concurrent briefings with simulated upstream latencies (2.5 s per model turn, embed
// 150 ms, search 30 ms). Targets: wall time <= 1.05x one briefing's, event-loop delay p99 < 20 ms.
// Reports CPU ms and heap bytes per briefing. Full scale takes the median of three paired runs.
// Two models: the embedded defaults' offline model (which does real text work in-process:
// planning, sentence selection, a whole briefing per request) and a scripted model (no text
// work), which isolates the library's own cost. Pools are sized to the simulated upstream, as an
// application sizes them to its quotas. The one briefing and the thousand each run on a fresh
// pipeline (cold query-embedding cache), so both pay for their embeddings; the simulated vector
// store's search runs "remotely" (see remoteVectorStore).
import { performance } from 'node:perf_hooks';
import { createBriefingPipeline, type ChatModel, createEventLoopMonitor, createIngestPipeline, definePools, resetPools } from '@aidoc/core';
import { createMockChatModel, createMockEmbedder, createMockVectorStore, scriptedBriefingTurns } from '@aidoc/core/testing';
import { createJsonPatientRepository, createOfflineModel, sampleGuidelinesDirectory, samplePatientsFile } from '@aidoc/local';
import type { Benchmark } from './lib/bench-result.ts';
import { garbageCollector } from './lib/garbage-collector.ts';
import { remoteVectorStore } from './lib/remote-vector-store.ts';
import { median, round } from './lib/measure.ts';

const MODEL_TURN_MS = 2_500;
const EMBED_MS = 150;
const SEARCH_MS = 30;
// The simulated embedder hashes each text in this process, work a real embedder does on its own
// machine: small vectors keep that cost out of the figures. (The store's search is kept out by
// `remoteVectorStore`.)
const DIMENSIONS = 64;

interface Latencies {
  readonly embedMs: number;
  readonly searchMs: number;
}

async function setUp(concurrency: number, model: ChatModel, latencies: Latencies = { embedMs: EMBED_MS, searchMs: SEARCH_MS }) {
  resetPools();
  definePools({
    model: { concurrency },
    embedder: { concurrency },
    vectorStore: { concurrency },
    patients: { concurrency },
  });
  const vectorStore = createMockVectorStore({ maxUpsertBatchSize: 1024 });
  // Ingest at full speed, then switch the simulated latency on for the briefings.
  await createIngestPipeline({ embedder: createMockEmbedder({ dimensions: DIMENSIONS, maxBatchSize: 256 }), vectorStore, collection: 'guidelines' }).ingest([
    sampleGuidelinesDirectory,
  ]);
  const slowStore = remoteVectorStore(
    createMockVectorStore({
      recordCalls: false,
      collections: { guidelines: { dimensions: DIMENSIONS, points: vectorStore.storedPoints('guidelines') ?? [] } },
    }),
    latencies.searchMs,
  );
  return createBriefingPipeline({
    patients: createJsonPatientRepository({ file: samplePatientsFile }),
    embedder: createMockEmbedder({ dimensions: DIMENSIONS, maxBatchSize: 256, latency: { fixedMs: latencies.embedMs }, recordCalls: false }),
    vectorStore: slowStore,
    model,
    collection: 'guidelines',
  });
}

/** A model that answers instantly in CPU terms: three searches, then a briefing citing S1. */
function scriptedModel(turnMs: number): ChatModel {
  const queries = ['metformin dose with reduced kidney function', 'blood pressure targets', 'potassium monitoring'];
  return createMockChatModel({ latency: { fixedMs: turnMs }, turns: scriptedBriefingTurns(queries), recordCalls: false });
}

const offlineModel = (turnMs: number): ChatModel => createOfflineModel({ latencyMs: turnMs });

/** A production process is warm: compile the hot paths first, on a pipeline without simulated latency. */
async function warmUp(createModel: (turnMs: number) => ChatModel, patientIds: readonly string[]): Promise<void> {
  const pipeline = await setUp(patientIds.length, createModel(0), { embedMs: 0, searchMs: 0 });
  for (let round = 0; round < 20; round++) await Promise.all(patientIds.map((id) => pipeline.brief(id)));
}

/** One paired measurement: one briefing, then `count` at once, each on a fresh pipeline. */
async function measureOnce(count: number, createModel: (turnMs: number) => ChatModel, patientIds: readonly string[]) {
  // Both start with an empty query-embedding cache, so both wait for their embeddings (the
  // thousand share them).
  const single = await setUp(count, createModel(MODEL_TURN_MS));
  let start = performance.now();
  await single.brief('1');
  const oneMs = performance.now() - start;
  const pipeline = await setUp(count, createModel(MODEL_TURN_MS));

  // Heap per briefing: the peak during the run over the live heap after a collection before it.
  garbageCollector()();
  const monitor = createEventLoopMonitor({ thresholdMs: 50 }).start();
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 100);
  const cpuBefore = process.cpuUsage();
  start = performance.now();
  const results = await Promise.allSettled(Array.from({ length: count }, (_, index) => pipeline.brief(patientIds[index % patientIds.length]!)));
  const allMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  const stats = monitor.stats();
  monitor.stop();
  resetPools();
  return {
    ratio: allMs / oneMs,
    oneMs,
    allMs,
    eventLoopP99Ms: stats.p99Ms,
    eventLoopMaxMs: stats.maxMs,
    cpuMsPerBriefing: (cpu.user + cpu.system) / 1000 / count,
    heapBytesPerBriefing: (heapPeak - heapBefore) / count,
    failures: results.filter((result) => result.status === 'rejected').length,
  };
}

/**
 * The median of `repetitions` paired measurements (each pairs its own one-briefing baseline with
 * its own thousand, at the same moment): on a shared 2-core virtual machine one run's figure
 * moves by a few percent with the neighbours' load. Every repetition's figures are in the details.
 */
async function measure(name: string, count: number, createModel: (turnMs: number) => ChatModel, repetitions: number) {
  const patientIds = ['1', '2', '3', '4', '5', '6'];
  await warmUp(createModel, patientIds);
  const runs: Awaited<ReturnType<typeof measureOnce>>[] = [];
  for (let repetition = 0; repetition < repetitions; repetition++) runs.push(await measureOnce(count, createModel, patientIds));
  const middle = (pick: (run: (typeof runs)[number]) => number) => median(runs.map(pick));
  const failures = runs.reduce((sum, run) => sum + run.failures, 0);
  const details = {
    briefings: count,
    repetitions,
    failures,
    oneBriefingMs: round(middle((run) => run.oneMs), 1),
    allBriefingsMs: round(middle((run) => run.allMs), 1),
    ratios: runs.map((run) => round(run.ratio, 3)).join(' / '),
    eventLoopP99sMs: runs.map((run) => round(run.eventLoopP99Ms, 2)).join(' / '),
    eventLoopMaxMs: round(Math.max(...runs.map((run) => run.eventLoopMaxMs)), 2),
    cpuMsPerBriefing: round(middle((run) => run.cpuMsPerBriefing), 2),
    heapBytesPerBriefing: Math.round(middle((run) => run.heapBytesPerBriefing)),
  };
  const eventLoopP99Ms = round(middle((run) => run.eventLoopP99Ms), 2);
  return [
    { name: `${count} concurrent briefings, ${name}`, metric: 'wall / one briefing (median)', value: round(middle((run) => run.ratio), 3), target: 1.05, unit: 'x', details },
    { name: `${count} concurrent briefings, ${name}: event-loop delay`, metric: 'p99 (median)', value: eventLoopP99Ms, target: 20, unit: ' ms', details },
    { name: `${count} concurrent briefings, ${name}: failures`, metric: 'failed briefings', value: failures, target: 0, details },
  ];
}

export const concurrentBriefings: Benchmark = {
  name: 'concurrent briefings',
  async run(scale) {
    const count = scale === 'full' ? 1_000 : 200;
    const repetitions = scale === 'full' ? 3 : 1;
    return [
      ...(await measure('offline model', count, offlineModel, repetitions)),
      ...(await measure('scripted model', count, scriptedModel, repetitions)),
    ];
  },
};
