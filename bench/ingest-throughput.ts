// Ingest throughput: 500 chunks (20 Markdown documents of 25 sections) through a simulated
// embedder (150 ms per call + 0.2 ms per text, at most 250 texts per call) and a simulated vector
// store (every call 5-20 ms). Three ways of doing the same work, measured in one run:
//   (a) sequential: one text per embed call, one call at a time, each chunk upserted after it;
//       500 x ~160 ms = ~80 s is too slow for a benchmark run, so it is timed on a sample and
//       extrapolated linearly (the work is uniform: each chunk costs one call and one upsert);
//   (b) waves: 20 single-text embed calls at once with `gather`, their 20 points upserted, then
//       the next wave (a common "just add Promise.all" fix);
//   (c) createIngestPipeline: batches of up to 250 texts, 4 in flight in a rolling window,
//       upserts pipelined with embedding, plus everything (b) skips: chunking, reading each
//       document's stored points, building payloads.
// Targets: (c) at least 100x faster than (a) and 10x faster than (b).
// Standalone: node --conditions=@aidoc/source bench/ingest-throughput.ts [--quick]
import { performance } from 'node:perf_hooks';
import { createIngestPipeline, gather, type Embedder, type VectorStore } from '@aidoc/core';
import { createMockEmbedder, createMockVectorStore, seededRandom } from '@aidoc/core/testing';
import { passes, type Benchmark, type BenchResult, type BenchScale } from './lib/bench-result.ts';
import { median, round } from './lib/measure.ts';

const DOCUMENTS = 20;
const SECTIONS = 25;
const CHUNKS = DOCUMENTS * SECTIONS;
const EMBED_CALL_MS = 150;
const EMBED_PER_TEXT_MS = 0.2;
const MAX_BATCH = 250;
const IN_FLIGHT = 4;
const WAVE = 20;
const COLLECTION = 'bench-guidelines';

/** One chunk per section: chunks never span sections, whatever the token budget. */
function corpus(): { id: string; text: string }[] {
  return Array.from({ length: DOCUMENTS }, (_, document) => {
    const sections = Array.from(
      { length: SECTIONS },
      (_, section) =>
        `## Topic ${section + 1}\n\nRecommendation ${section + 1} of guideline ${document + 1}: review blood pressure, renal function and ` +
        `potassium within four weeks of any change in dose, and record the result in the patient's chart.`,
    );
    return { id: `guideline-${document + 1}.md`, text: `# Guideline ${document + 1}\n\n${sections.join('\n\n')}` };
  });
}

function adapters(seed: number): { embedder: Embedder; store: VectorStore } {
  const embedder = createMockEmbedder({ maxBatchSize: MAX_BATCH, latency: { fixedMs: EMBED_CALL_MS, perItemMs: EMBED_PER_TEXT_MS } });
  const store = createMockVectorStore({ latency: { fixedMs: 5, jitterMs: 15, random: seededRandom(seed) } });
  return { embedder, store };
}

/** Ours, from documents to stored points; returns the wall time and the chunk texts it embedded. */
async function runOurs(seed: number): Promise<{ ms: number; texts: string[]; calls: number }> {
  const { embedder, store } = adapters(seed);
  const pipeline = createIngestPipeline({ embedder, vectorStore: store, collection: COLLECTION, concurrency: IN_FLIGHT });
  const started = performance.now();
  const report = await pipeline.ingest(corpus());
  const ms = performance.now() - started;
  if (report.totals.embedded !== CHUNKS) throw new Error(`expected ${CHUNKS} chunks, embedded ${report.totals.embedded}`);
  const calls = (embedder as ReturnType<typeof createMockEmbedder>).calls;
  return { ms, texts: calls.flatMap((call) => call.input.texts), calls: calls.length };
}

async function embedAndStore(embedder: Embedder, store: VectorStore, texts: readonly string[], offset: number): Promise<void> {
  const vectors = await gather(texts.map((text) => () => embedder.embed([text], { kind: 'document' })));
  const points = vectors.map(([vector], index) => ({ id: uuidFor(offset + index), vector: vector!, payload: { text: texts[index]! } }));
  await store.upsert(COLLECTION, points);
}

/** (a): one call per chunk, one at a time, each chunk upserted after its call. */
async function runSequential(texts: readonly string[], seed: number): Promise<number> {
  const { embedder, store } = adapters(seed);
  await store.ensureCollection(COLLECTION, { dimensions: embedder.dimensions, distance: 'cosine' });
  const started = performance.now();
  for (const [index, text] of texts.entries()) {
    const [vector] = await embedder.embed([text], { kind: 'document' });
    await store.upsert(COLLECTION, [{ id: uuidFor(index), vector: vector!, payload: { text } }]);
  }
  return performance.now() - started;
}

/** (b): waves of `WAVE` concurrent single-text calls; each wave's points upserted before the next wave. */
async function runWaves(texts: readonly string[], seed: number): Promise<number> {
  const { embedder, store } = adapters(seed);
  await store.ensureCollection(COLLECTION, { dimensions: embedder.dimensions, distance: 'cosine' });
  const started = performance.now();
  for (let start = 0; start < texts.length; start += WAVE) await embedAndStore(embedder, store, texts.slice(start, start + WAVE), start);
  return performance.now() - started;
}

function uuidFor(index: number): string {
  return `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
}

export const ingestThroughput: Benchmark = {
  name: 'ingest throughput',
  async run(scale: BenchScale): Promise<BenchResult[]> {
    const repeats = scale === 'full' ? 3 : 1;
    const sequentialSample = scale === 'full' ? 40 : 10;
    const waveChunks = scale === 'full' ? CHUNKS : 5 * WAVE;

    const ours: number[] = [];
    let texts: string[] = [];
    let calls = 0;
    for (let repeat = 0; repeat < repeats; repeat++) {
      const run = await runOurs(repeat + 1);
      ours.push(run.ms);
      texts = run.texts;
      calls = run.calls;
    }
    const oursMs = median(ours);
    const sampleMs = await runSequential(texts.slice(0, sequentialSample), 101);
    const sequentialMs = (sampleMs / sequentialSample) * CHUNKS;
    const measuredWavesMs = await runWaves(texts.slice(0, waveChunks), 202);
    const wavesMs = (measuredWavesMs / waveChunks) * CHUNKS;

    const setup = `${CHUNKS} chunks, ${EMBED_CALL_MS} ms/call + ${EMBED_PER_TEXT_MS} ms/text, batch ${MAX_BATCH}, ${IN_FLIGHT} in flight`;
    const shared = {
      oursMs: round(oursMs, 1),
      oursRuns: ours.map((ms) => round(ms, 1)).join(', '),
      oursEmbedCalls: calls,
      oursChunksPerSecond: round((CHUNKS * 1000) / oursMs, 0),
    };
    return [
      {
        name: `ingest ${setup}`,
        metric: 'sequential (1 text/call) / ours',
        value: round(sequentialMs / oursMs, 1),
        target: 100,
        higherIsBetter: true,
        unit: 'x',
        details: {
          ...shared,
          sequentialMs: round(sequentialMs, 0),
          sequentialSampleChunks: sequentialSample,
          sequentialSampleMs: round(sampleMs, 1),
          note: `sequential timed on ${sequentialSample} chunks and extrapolated linearly to ${CHUNKS}`,
        },
      },
      {
        name: `ingest ${setup}`,
        metric: `waves of ${WAVE} (gather, 1 text/call) / ours`,
        value: round(wavesMs / oursMs, 1),
        target: 10,
        higherIsBetter: true,
        unit: 'x',
        details: {
          ...shared,
          wavesMs: round(wavesMs, 0),
          wavesMeasuredChunks: waveChunks,
          ...(waveChunks === CHUNKS ? {} : { note: `waves timed on ${waveChunks} chunks and extrapolated linearly to ${CHUNKS}` }),
        },
      },
    ];
  },
};

if (import.meta.main) {
  const rows = await ingestThroughput.run(process.argv.includes('--quick') ? 'quick' : 'full');
  for (const row of rows) console.log(`${passes(row) ? 'pass' : 'FAIL'} | ${row.metric}: ${row.value}${row.unit ?? ''} (target >= ${row.target}) | ${JSON.stringify(row.details)}`);
}
