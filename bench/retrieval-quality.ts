// Retrieval quality of the hashing embedder on MedQuAD: every question should retrieve its own
// answer among all the answers of the set. Reports recall@1, recall@5 and MRR for the hashing
// embedder (exact cosine search) and for a BM25 baseline (k1 = 1.2, b = 0.75) over the same
// tokens, with timings, plus the longest event-loop stall while one call embeds a full batch.
//
//   node --conditions=@aidoc/source bench/retrieval-quality.ts             full set (docs/retrieval-quality.md)
//   node --conditions=@aidoc/source bench/retrieval-quality.ts --quick     the even half of the files
//   node --conditions=@aidoc/source bench/retrieval-quality.ts --variants  the tuning table (both halves)
import type { Embedder } from '@aidoc/core';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createHashingEmbedder, stem, tokenize, type HashingEmbedderOptions } from '@aidoc/local';
import type { Benchmark, BenchResult } from './lib/bench-result.ts';
import { buildBm25Index } from './lib/bm25.ts';
import { round } from './lib/measure.ts';
import { loadRetrievalSet, type MedquadSplit, type RetrievalSet } from './lib/medquad.ts';

export interface RetrievalMetrics {
  readonly recallAt1: number;
  readonly recallAt5: number;
  readonly meanReciprocalRank: number;
}

interface TimedMetrics extends RetrievalMetrics {
  /** Building the index: embedding every answer, or BM25's tokenising and postings. */
  readonly indexMs: number;
  /** Answering every query: embedding it and scoring every document (exact search). */
  readonly queryMs: number;
}

/**
 * 1-based rank of the best-scored relevant document; ties rank in document order, so a query
 * whose scores are all equal (an empty vector) ranks its answer where it happens to stand.
 */
export function rankOfFirstRelevant(scores: ArrayLike<number>, relevant: readonly number[]): number {
  let best = relevant[0]!;
  for (const documentId of relevant) {
    if (scores[documentId]! > scores[best]! || (scores[documentId] === scores[best] && documentId < best)) best = documentId;
  }
  const bestScore = scores[best]!;
  let rank = 1;
  for (let documentId = 0; documentId < scores.length; documentId++) {
    const score = scores[documentId]!;
    if (score > bestScore || (score === bestScore && documentId < best)) rank++;
  }
  return rank;
}

export function summarise(ranks: readonly number[]): RetrievalMetrics {
  let at1 = 0;
  let at5 = 0;
  let reciprocal = 0;
  for (const rank of ranks) {
    if (rank === 1) at1++;
    if (rank <= 5) at5++;
    reciprocal += 1 / rank;
  }
  const count = Math.max(1, ranks.length);
  return { recallAt1: at1 / count, recallAt5: at5 / count, meanReciprocalRank: reciprocal / count };
}

async function embedInBatches(embedder: Embedder, texts: readonly string[], kind: 'query' | 'document'): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += embedder.maxBatchSize) {
    vectors.push(...(await embedder.embed(texts.slice(start, start + embedder.maxBatchSize), { kind })));
  }
  return vectors;
}

/** Exact cosine search (vectors are unit length, so a dot product) of every query against every answer. */
export async function evaluateEmbedder(embedder: Embedder, set: RetrievalSet): Promise<TimedMetrics> {
  const indexStart = performance.now();
  const documents = await embedInBatches(embedder, set.documents, 'document');
  // Dimension-major copy: a query touches only its non-zero dimensions, each one a contiguous
  // run over all documents.
  const count = documents.length;
  const columns = new Float32Array(embedder.dimensions * count);
  documents.forEach((vector, documentId) => {
    for (let dimension = 0; dimension < vector.length; dimension++) columns[dimension * count + documentId] = vector[dimension]!;
  });
  const indexMs = performance.now() - indexStart;

  const queryStart = performance.now();
  const queries = await embedInBatches(embedder, set.queries, 'query');
  const scores = new Float64Array(count);
  const ranks = queries.map((query, queryId) => {
    scores.fill(0);
    for (let dimension = 0; dimension < query.length; dimension++) {
      const weight = query[dimension]!;
      if (weight === 0) continue;
      const offset = dimension * count;
      for (let documentId = 0; documentId < count; documentId++) scores[documentId] = scores[documentId]! + weight * columns[offset + documentId]!;
    }
    return rankOfFirstRelevant(scores, set.relevant[queryId]!);
  });
  return { ...summarise(ranks), indexMs, queryMs: performance.now() - queryStart };
}

/** How BM25 tokenises: the embedder's own word tokens (normalisation, stopwords, query framing words, stemming). */
export interface Bm25TextOptions {
  readonly stopwords: boolean;
  readonly stemming: boolean;
  /** Drop request-framing words from queries, as the embedder does. */
  readonly queryFraming: boolean;
}

/** BM25 (k1 1.2, b 0.75) of every query against every answer. */
export function evaluateBm25(set: RetrievalSet, textOptions: Bm25TextOptions): TimedMetrics {
  const terms = (text: string, query: boolean): string[] => {
    const words = tokenize(text, { stopwords: textOptions.stopwords, query: query && textOptions.queryFraming });
    return textOptions.stemming ? words.map(stem) : words;
  };
  const indexStart = performance.now();
  const index = buildBm25Index(set.documents.map((document) => terms(document, false)), { k1: 1.2, b: 0.75 });
  const indexMs = performance.now() - indexStart;
  const queryStart = performance.now();
  const ranks = set.queries.map((query, queryId) => rankOfFirstRelevant(index.scoreAll(terms(query, true)), set.relevant[queryId]!));
  return { ...summarise(ranks), indexMs, queryMs: performance.now() - queryStart };
}

/** Embeds one full batch of answers in one call while a 1 ms histogram watches the event loop. */
export async function measureEventLoop(embedder: Embedder, texts: readonly string[]): Promise<{ longestStallMs: number; microsecondsPerText: number; microsecondsPerThousandCharacters: number; texts: number }> {
  const batch = texts.slice(0, embedder.maxBatchSize);
  await embedder.embed(batch.slice(0, 200), { kind: 'document' }); // warm the JIT
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const start = performance.now();
  await embedder.embed(batch, { kind: 'document' });
  const elapsedMs = performance.now() - start;
  // One more turn of the loop, so the histogram sees the last slice.
  await new Promise((resolve) => setTimeout(resolve, 5));
  histogram.disable();
  const characters = batch.reduce((sum, text) => sum + text.length, 0);
  return {
    longestStallMs: histogram.max / 1e6,
    microsecondsPerText: (elapsedMs * 1000) / batch.length,
    microsecondsPerThousandCharacters: (elapsedMs * 1e6) / characters,
    texts: batch.length,
  };
}

const DEFAULT_TEXT_OPTIONS: Bm25TextOptions = { stopwords: true, stemming: true, queryFraming: true };

const percent = (value: number): number => round(value * 100, 1);

export const retrievalQuality: Benchmark = {
  name: 'retrieval quality (MedQuAD)',
  async run(scale) {
    const split: MedquadSplit = scale === 'full' ? 'all' : 'even';
    const set = await loadRetrievalSet(split);
    const embedder = createHashingEmbedder();
    const hashing = await evaluateEmbedder(embedder, set);
    const bm25 = evaluateBm25(set, DEFAULT_TEXT_OPTIONS);
    const loop = await measureEventLoop(embedder, set.documents);
    const shape = `MedQuAD ${split === 'all' ? 'all files' : 'even files'} (${set.queries.length} questions, ${set.documents.length} answers)`;
    const details = {
      questions: set.queries.length,
      answers: set.documents.length,
      model: embedder.model,
      hashingRecallAt1: percent(hashing.recallAt1),
      hashingRecallAt5: percent(hashing.recallAt5),
      hashingMrr: round(hashing.meanReciprocalRank, 3),
      bm25RecallAt1: percent(bm25.recallAt1),
      bm25RecallAt5: percent(bm25.recallAt5),
      bm25Mrr: round(bm25.meanReciprocalRank, 3),
      hashingIndexMs: round(hashing.indexMs, 0),
      hashingQueryMs: round(hashing.queryMs, 0),
      bm25IndexMs: round(bm25.indexMs, 0),
      bm25QueryMs: round(bm25.queryMs, 0),
    };
    const rows: BenchResult[] = [
      { name: `${shape}, hashing 768d exact cosine`, metric: 'MRR / BM25 MRR', value: round(hashing.meanReciprocalRank / bm25.meanReciprocalRank), target: 0.8, higherIsBetter: true, unit: 'x', details },
      { name: `${shape}, hashing 768d exact cosine`, metric: 'recall@5 / BM25 recall@5', value: round(hashing.recallAt5 / bm25.recallAt5), target: 0.8, higherIsBetter: true, unit: 'x', details },
      {
        name: `hashing embedder, one call of ${loop.texts} MedQuAD answers`,
        metric: 'longest event-loop stall',
        value: round(loop.longestStallMs, 1),
        target: 50,
        unit: ' ms',
        details: { microsecondsPerText: round(loop.microsecondsPerText, 0), microsecondsPerThousandCharacters: round(loop.microsecondsPerThousandCharacters, 0) },
      },
    ];
    return rows;
  },
};

/** The tuning table: each variant on both halves of the corpus (answers of the other half are not candidates). */
const VARIANTS: readonly { label: string; options: HashingEmbedderOptions }[] = [
  { label: 'defaults (768 dims)', options: {} },
  { label: '1,024 dims', options: { dimensions: 1024 } },
  { label: '2,048 dims', options: { dimensions: 2048 } },
  { label: '4,096 dims', options: { dimensions: 4096 } },
  { label: 'no stemming', options: { stemming: false } },
  { label: 'no stopwords (nor query framing words)', options: { stopwords: false } },
  { label: 'words only', options: { wordNgrams: 1, charNgrams: false } },
  { label: 'no word pairs', options: { wordNgrams: 1 } },
  { label: 'characters only', options: { wordNgrams: 1, weights: { words: 0 } } },
  { label: 'no character n-grams', options: { charNgrams: false } },
  { label: 'characters 3-4', options: { charNgrams: { min: 3, max: 4 } } },
  { label: 'characters 4-6', options: { charNgrams: { min: 4, max: 6 } } },
  { label: 'weights 1 : 0.5 : 0.5', options: { weights: { wordPairs: 0.5, characters: 0.5 } } },
  { label: 'weights 1 : 0.5 : 1', options: { weights: { wordPairs: 0.5, characters: 1 } } },
  { label: 'weights 1 : 0.5 : 2', options: { weights: { wordPairs: 0.5 } } },
  { label: 'weights 1 : 1 : 1', options: { weights: { characters: 1 } } },
  { label: 'weights 1 : 1 : 3', options: { weights: { characters: 3 } } },
];

function formatRow(label: string, metrics: RetrievalMetrics): string {
  return `| ${label} | ${percent(metrics.recallAt1)} | ${percent(metrics.recallAt5)} | ${round(metrics.meanReciprocalRank, 3)} |`;
}

async function printVariants(): Promise<void> {
  const halves = await Promise.all((['even', 'odd'] as const).map((split) => loadRetrievalSet(split)));
  for (const [index, set] of halves.entries()) {
    console.log(`\n${index === 0 ? 'even' : 'odd'} files: ${set.queries.length} questions, ${set.documents.length} answers`);
    console.log('| variant | recall@1 % | recall@5 % | MRR |\n|---|---:|---:|---:|');
    for (const { label, options } of VARIANTS) console.log(formatRow(label, await evaluateEmbedder(createHashingEmbedder(options), set)));
    for (const [label, textOptions] of [
      ['BM25 (same tokens as the defaults)', DEFAULT_TEXT_OPTIONS],
      ['BM25, query framing words kept', { ...DEFAULT_TEXT_OPTIONS, queryFraming: false }],
      ['BM25, no stemming', { ...DEFAULT_TEXT_OPTIONS, stemming: false }],
      ['BM25, no stopwords', { stopwords: false, stemming: true, queryFraming: false }],
    ] as const) {
      console.log(formatRow(label, evaluateBm25(set, textOptions)));
    }
  }
}

async function printReport(quick: boolean): Promise<void> {
  const start = performance.now();
  const split: MedquadSplit = quick ? 'even' : 'all';
  const set = await loadRetrievalSet(split);
  const loadMs = performance.now() - start;
  const embedder = createHashingEmbedder();
  const hashing = await evaluateEmbedder(embedder, set);
  const bm25 = evaluateBm25(set, DEFAULT_TEXT_OPTIONS);
  const loop = await measureEventLoop(embedder, set.documents);
  console.log(`MedQuAD (${split} files): ${set.fileCount} files, ${set.pairCount} QA pairs -> ${set.queries.length} distinct questions, ${set.documents.length} distinct answers (loaded in ${round(loadMs, 0)} ms)`);
  console.log(`embedder: ${embedder.model}\n`);
  console.log('| method | recall@1 % | recall@5 % | MRR | index ms | query ms (all questions) |\n|---|---:|---:|---:|---:|---:|');
  for (const [label, metrics] of [['hashing embedder, exact cosine', hashing], ['BM25 (k1 1.2, b 0.75)', bm25]] as const) {
    console.log(`${formatRow(label, metrics)} ${round(metrics.indexMs, 0)} | ${round(metrics.queryMs, 0)} |`);
  }
  console.log(
    `\none embed call of ${loop.texts} answers: ${round(loop.microsecondsPerText, 0)} µs per text, ${round(loop.microsecondsPerThousandCharacters, 0)} µs per 1,000 characters, longest event-loop stall ${round(loop.longestStallMs, 1)} ms`,
  );
  console.log(`total ${round((performance.now() - start) / 1000, 1)} s`);
}

if (import.meta.main) {
  if (process.argv.includes('--variants')) await printVariants();
  else await printReport(process.argv.includes('--quick'));
}
